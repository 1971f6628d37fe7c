package config_test

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// TestExampleFile: packaging/gatehouse.yaml loads, passes validation, and
// names every setting, so it cannot rot as settings are added.
func TestExampleFile(t *testing.T) {
	const path = "../../packaging/gatehouse.yaml"
	c := config.Default()
	if err := c.LoadFile(path); err != nil {
		t.Fatalf("loading the example: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the example does not validate: %v", err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(config.Config{})
	for i := range typ.NumField() {
		key, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		if !regexp.MustCompile(`(?m)^` + key + `:`).Match(text) {
			t.Errorf("the example does not set %q", key)
		}
	}
}
