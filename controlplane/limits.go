package controlplane

// MaxHeaderBytes is the http.Server.MaxHeaderBytes to serve the API (and
// an app that embeds it) with: request line and headers together. A
// browser's cookies for the app and Clerk stay under 16 KiB, and the
// credentials in them are refused above their own bounds
// (clerkauth.DefaultMaxTokenBytes and appsession.DefaultMaxTokenBytes,
// 8 KiB each), so 64 KiB leaves room while net/http's default (1 MiB)
// would let every connection hold a megabyte of headers. A request over
// it is answered 431 before any handler runs.
//
//	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second,
//		MaxHeaderBytes: controlplane.MaxHeaderBytes}
const MaxHeaderBytes = 64 << 10
