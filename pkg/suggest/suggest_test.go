package suggest

import "testing"

func TestClosest(t *testing.T) {
	words := []string{"installationMode", "icon", "images", "package", "push", "unpush"}
	tests := []struct {
		word string
		max  int
		want string
	}{
		{"installationmode", 2, "installationMode"},
		{"INSTALLATIONMODE", 0, "installationMode"},
		{"imagse", 2, "images"},
		{"pakage", 2, "package"},
		{"puhs", 2, "push"},
		{"frobnicate", 2, ""},
		{"", 2, ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.word, words, tt.max); got != tt.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", tt.word, tt.max, got, tt.want)
		}
	}
}
