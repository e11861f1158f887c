// Runs one planned chunk on one worker's whisper_state: reads its samples (inline or from the
// decoded file), plays them faster when the plan says so (SpeedUp.h), builds whisper_full_params from the job's options (fullParamsFor), runs
// whisper.cpp with the abort, progress and timing callbacks, and turns the state's segments,
// tokens and words into a ChunkResult (collectResult). Mechanism only: what to run and how is
// decided in TypeScript; the options arrive validated by TranscribeJob's conversions.
#pragma once
#include <memory>

#include "TranscribeJob.h"

struct whisper_context;
struct whisper_state;
struct whisper_full_params;

namespace wf {

struct ChunkRun;

class ChunkRunner {
 public:
  // `hugePages`: a state recreated here gets its compute buffers on huge pages (WhisperInit.h).
  ChunkRunner(whisper_context* ctx, bool hugePages, TranscribeJob& job, ChunkSpec& chunk, int workerId);
  ~ChunkRunner();
  ChunkRunner(const ChunkRunner&) = delete;
  ChunkRunner& operator=(const ChunkRunner&) = delete;

  // The result, or nullptr with `failure` set (empty when the job was aborted). `state` is the
  // worker's: recreated here when whisper.cpp freed it after an earlier failure, and set to null
  // when it frees it now.
  std::unique_ptr<ChunkResult> run(whisper_state*& state, Failure& failure);

 private:
  whisper_full_params fullParamsFor();
  std::unique_ptr<ChunkResult> collectResult(whisper_state* state, size_t sampleCount);

  whisper_context* ctx_;
  bool hugePages_;
  TranscribeJob& job_;
  ChunkSpec& chunk_;
  int workerId_;
  std::unique_ptr<ChunkRun> run_;
};

}  // namespace wf
