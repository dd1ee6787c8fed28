// Package mgmttest is the one test suite of the management API: Run drives
// a real handler over HTTP through internal/client, checking every route,
// every error code and its message, the SKU gates, the name rules, the
// operator token, and that passwords are shown once. The handler's own
// tests run it over Memory, in-memory stores; the node's wiring test runs
// the same table over the real stores.
package mgmttest
