package mgmt

import "net/http"

// route is one operation of the API: method and ServeMux path pattern, the
// operationId that api/openapi.json gives it, and its handler. Public
// routes need no operator token.
type route struct {
	method, path string
	operation    string
	public       bool
	handle       func(w http.ResponseWriter, r *http.Request) error
}

// Path prefixes of the routes.
const (
	v1Path  = "/api/v1"
	regPath = v1Path + "/registries/{name}"
)

// routes lists the whole API. Repository names hold slashes: a repository
// is the trailing wildcard {repository...}; tags and manifests take the
// repository as the query parameter "repository".
func (h *Handler) routes() []route {
	return []route{
		{"GET", v1Path + "/{$}", "getVersion", true, h.version},
		{"GET", v1Path + "/version", "getVersionExplicit", true, h.version},

		{"GET", v1Path + "/registries", "listRegistries", false, h.listRegistries},
		{"POST", v1Path + "/registries", "createRegistry", false, h.createRegistry},
		{"GET", regPath, "getRegistry", false, h.getRegistry},
		{"PATCH", regPath, "updateRegistry", false, h.updateRegistry},
		{"DELETE", regPath, "deleteRegistry", false, h.deleteRegistry},
		{"GET", regPath + "/health", "checkRegistryHealth", false, h.checkHealth},
		{"GET", regPath + "/endpoints", "showRegistryEndpoints", false, h.showEndpoints},
		{"GET", regPath + "/endpoints/allowlist", "showRegistryAllowlist", false, h.showAllowlist},

		{"GET", regPath + "/credentials", "showAdminCredentials", false, h.showCredentials},
		{"POST", regPath + "/credentials/renew", "renewAdminPassword", false, h.renewCredential},

		{"GET", regPath + "/scopeMaps", "listScopeMaps", false, h.listScopeMaps},
		{"POST", regPath + "/scopeMaps", "createScopeMap", false, h.createScopeMap},
		{"GET", regPath + "/scopeMaps/{scopeMap}", "getScopeMap", false, h.getScopeMap},
		{"PATCH", regPath + "/scopeMaps/{scopeMap}", "updateScopeMap", false, h.updateScopeMap},
		{"DELETE", regPath + "/scopeMaps/{scopeMap}", "deleteScopeMap", false, h.deleteScopeMap},

		{"GET", regPath + "/tokens", "listTokens", false, h.listTokens},
		{"POST", regPath + "/tokens", "createToken", false, h.createToken},
		{"GET", regPath + "/tokens/{token}", "getToken", false, h.getToken},
		{"PATCH", regPath + "/tokens/{token}", "updateToken", false, h.updateToken},
		{"DELETE", regPath + "/tokens/{token}", "deleteToken", false, h.deleteToken},
		{"POST", regPath + "/tokens/{token}/credentials/generate", "generateTokenPassword", false, h.generateTokenPassword},
		{"DELETE", regPath + "/tokens/{token}/credentials/{passwordName}", "deleteTokenPassword", false, h.deleteTokenPassword},

		{"GET", regPath + "/repositories", "listRepositories", false, h.listRepositories},
		{"GET", regPath + "/repositories/{repository...}", "getRepository", false, h.getRepository},
		{"PATCH", regPath + "/repositories/{repository...}", "updateRepository", false, h.updateRepository},
		{"DELETE", regPath + "/repositories/{repository...}", "deleteRepository", false, h.deleteRepository},

		{"GET", regPath + "/tags", "listTags", false, h.listTags},
		{"GET", regPath + "/tags/{tag}", "getTag", false, h.getTag},
		{"PATCH", regPath + "/tags/{tag}", "updateTag", false, h.updateTag},
		{"DELETE", regPath + "/tags/{tag}", "deleteTag", false, h.deleteTag},

		{"GET", regPath + "/manifests", "listManifests", false, h.listManifests},
		{"GET", regPath + "/manifests/{digest}", "getManifest", false, h.getManifest},
		{"PATCH", regPath + "/manifests/{digest}", "updateManifest", false, h.updateManifest},
		{"DELETE", regPath + "/manifests/{digest}", "deleteManifest", false, h.deleteManifest},
	}
}
