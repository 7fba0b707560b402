package model

import "testing"

func TestTemplateDetectorMatchesNewDetector(t *testing.T) {
	tmpl, err := NewTemplate(Config{WarmUp: 10})
	if err != nil {
		t.Fatalf("NewTemplate() = %v", err)
	}
	a, b := tmpl.NewDetector(), mustDetector(t, Config{WarmUp: 10})
	for i := range 500 {
		v := float64(i%7) + float64(i/400)*50
		if got, want := a.Update(int64(i)*fiveMin, v), b.Update(int64(i)*fiveMin, v); got != want {
			t.Fatalf("sample %d: Update() = %+v, want %+v", i, got, want)
		}
	}
}

func TestNewTemplateRejectsBadConfig(t *testing.T) {
	if _, err := NewTemplate(Config{WarmUp: -1}); err == nil {
		t.Error("NewTemplate(WarmUp -1) = nil error, want one")
	}
}
