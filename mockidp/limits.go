package mockidp

// maxHeaderBytes bounds a request's line and headers on the mock's own
// listener (Listen, ListenTLS), as controlplane.MaxHeaderBytes does for an
// app: a request over it is answered 431 before any handler runs. The
// mock's bodies are bounded by maxBody.
const maxHeaderBytes = 64 << 10
