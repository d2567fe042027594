// Package training holds the parts of the WMSS pipeline that Go owns: the
// curriculum (sampling weights from weak and strong entropies, seeded
// resampling), the λ and learning-rate schedules, training-data loading and
// validation, the pipeline spec, and the data-order arithmetic that makes
// resume exact. The method, its formulas and its check values are in
// ../shared/docs/wmss-method.md; section names cited in doc comments refer to
// that page.
//
// Files, one concept each:
//
//	curriculum.go  sampling weights, official and paper_v2 (Weights)
//	resample.go    the seeded draw with replacement (Resample) and the RNG
//	selection.go   phase 2 end to end (Select), its JSONL artifact and summary
//	schedule.go    λ and learning-rate schedules (LambdaSchedule, LRSchedule)
//	dataset.go     training-data JSONL validation and the GSM8K reader
//	mawps.go       the MAWPS train-set reader
//	length.go      the max-length rule (truncate or drop) and its counts
//	spec.go        the pipeline spec, its defaults and validation (DecodeSpec)
//	specjson.go    strict JSON decoding that names the path of a bad field
//	plan.go        micro-batches per optimizer step, and resume positions
//
// Everything here is pure Go and deterministic: the engine (PyTorch behind
// the bridge) only receives the plan this package computes. Random choices
// come from math/rand/v2's PCG seeded with (seed, stream); see resample.go.
package training
