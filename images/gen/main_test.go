package main

import (
	"bytes"
	"image/png"
	"os"
	"testing"
)

// TestIconIsGenerated checks the committed icon is exactly what this generator draws, at the
// 128×128 the Marketplace requires, so the PNG can always be rebuilt from code.
func TestIconIsGenerated(t *testing.T) {
	committed, err := os.ReadFile("../icon.png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(committed))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 128 || b.Dy() != 128 {
		t.Errorf("icon is %dx%d, want 128x128", b.Dx(), b.Dy())
	}
	var drawn bytes.Buffer
	if err := png.Encode(&drawn, draw()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(drawn.Bytes(), committed) {
		t.Error("images/icon.png differs from what `go run ./images/gen` draws; rerun it and commit the PNG")
	}
}
