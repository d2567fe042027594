// Package wmss holds the vocabulary shared by every part of the service:
// job identifiers and states, the Error type with its codes, and the
// interfaces that the api, training and evaluators packages program against.
//
// WMSS (weak-driven learning, arXiv 2602.08222) post-trains a strong SFT'd
// model against a weak historical checkpoint of itself; see
// ../shared/docs/wmss-method.md for the method. Concrete implementations live
// in subpackages (bridge for the embedded PyTorch engine, training for the
// pipeline, evaluators for scoring); only cmd/wmss wires them together.
package wmss
