// Package client is the Go client of berth's management API (/api/v1/):
// one method per operation, taking and returning the wire types of
// internal/mgmt/api. The berth CLI and the tests use it; it needs nothing
// but a base URL, the operator token and an *http.Client.
//
// Every failure the server reports is an *Error carrying the HTTP status,
// the API's error code and the server's message, which Error() prints as
// it is:
//
//	c := client.New("http://127.0.0.1:5000", token, nil)
//	reg, err := c.CreateRegistry(ctx, api.CreateRegistryRequest{Name: "contoso", SKU: api.SKUPremium})
//	if client.ErrorCode(err) == api.CodeRegistryNameNotAvailable { ... }
//
// Passwords come back with their values only from the calls that generate
// them: CreateRegistry and UpdateRegistry when they turn the admin user on,
// RenewCredential, CreateToken and GenerateTokenPassword.
package client
