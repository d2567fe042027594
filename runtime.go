package wmss

// RuntimeInfo describes the process's compute runtime, as /healthz reports it.
type RuntimeInfo struct {
	Go          string `json:"go"`           // Go version, e.g. "go1.26.8"
	Python      string `json:"python"`       // embedded CPython version, e.g. "3.11.2"
	Executable  string `json:"executable"`   // sys.executable of the embedded interpreter
	Torch       string `json:"torch"`        // torch.__version__
	Device      string `json:"device"`       // "cuda" or "cpu"
	CUDADevices int    `json:"cuda_devices"` // number of visible CUDA devices
	Threads     int    `json:"threads"`      // torch intra-op threads
	BLAS        string `json:"blas"`         // path of the BLAS library torch uses
	OpenBLAS    bool   `json:"openblas"`     // whether that library is OpenBLAS
}
