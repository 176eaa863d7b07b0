// Package layers holds the tests of the repository's shape: which layer
// may import which (TestLayers), that the stages keep their promises
// (rules and report never scan, scan never judges, rules never touch an
// AWS client), that ARCHITECTURE.md names every package
// (TestArchitectureNamesEveryPackage), that no package but main calls
// panic outside its tests (TestNoPanicOutsideMain), and that no function
// outside the tests is over 100 lines (TestNoLongFunctions). It has no
// code of its own.
//
// The layers, from the bottom:
//
//   - internal/base/...: plain data and AWS plumbing that knows nothing of
//     the scan (inventory, awsclient, awserr, backoff, iampolicy,
//     strictjson); it imports only base.
//   - internal/standin/...: what stands in for AWS in the demo and the
//     tests (the simulated organization, the local servers); it imports
//     only base.
//   - the stages, scan, rules and report/...: fetch, evaluate, store; they
//     import base and one another as the data flows (rules never scan,
//     report never scans, scan never judges).
//   - internal/app/... and cmd/...: what runs the stages for people (the
//     configuration, the pipeline, the console, the views, the demo);
//     they import anything but the test machinery.
//   - internal/testenv/... and report/sinktest: the test machinery; only
//     tests and other test machinery import it, so no binary links the
//     testing package.
package layers
