package extension

// Category is one of the extension categories built into KubeSphere.
type Category struct {
	// Name is the value to use in extension.yaml's category field.
	Name string `json:"name"`
	// DisplayName is how the console and "ksbuilder create" show it.
	DisplayName string `json:"displayName"`
}

// Categories are the 11 categories that ks-core creates, in the order
// "ksbuilder create" offers them.
var Categories = []Category{
	{Name: "ai-machine-learning", DisplayName: "AI / LLM"},
	{Name: "deepseek", DisplayName: "DeepSeek"},
	{Name: "database", DisplayName: "Database"},
	{Name: "observability", DisplayName: "Observability"},
	{Name: "integration-delivery", DisplayName: "CI / CD"},
	{Name: "networking", DisplayName: "Networking"},
	{Name: "security", DisplayName: "Security"},
	{Name: "storage", DisplayName: "Storage"},
	{Name: "streaming-messaging", DisplayName: "Streaming and messaging"},
	{Name: "computing", DisplayName: "Computing"},
	{Name: "dev-tools", DisplayName: "DevTools"},
}

// LookupCategory finds a built-in category by its name.
func LookupCategory(name string) (Category, bool) {
	for _, c := range Categories {
		if c.Name == name {
			return c, true
		}
	}
	return Category{}, false
}
