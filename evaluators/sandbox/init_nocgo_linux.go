//go:build linux && !cgo

package sandbox

// initUnshares says whether the init creates the namespaces itself. The Go
// init cannot (a multithreaded process may not enter a new user
// namespace), so the parent's clone creates them.
const initUnshares = false
