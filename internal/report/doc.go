// Package report renders the HTML report of a WMSS-versus-SFT comparison:
// one self-contained file (inline CSS, inline SVG charts drawn here, no
// script, no network) with the training curves of both runs, the logit-gap
// (saturation) picture, the λ and learning-rate schedules, the curriculum's
// weak-versus-strong entropies and sampling weights, and the evaluation
// table next to the paper's numbers (docs/wmss-method.md).
//
// The caller fills an Input from the jobs' metrics, the selection artifact
// and the evaluation results, then calls Render or WriteFile. The package
// reads no files and does no I/O beyond the writer it is given (WriteFile:
// the one file it writes).
//
// To look at a sample report rendered from synthetic data shaped like a
// demo run:
//
//	WMSS_REPORT_SAMPLE=/tmp/report.html go test ./internal/report -run TestWriteSample
package report
