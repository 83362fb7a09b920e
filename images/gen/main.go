// Command gen draws mlcanary's 128×128 extension icon (images/icon.png): a traffic split — green and
// blue arcs of one ring around a canary-yellow dot — on a dark rounded square. Run it from the
// repository root with `go run ./images/gen`; the PNG is committed, so builds do not run it.
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

const size = 128

var (
	background = color.RGBA{0x1b, 0x26, 0x3b, 0xff}
	green      = color.RGBA{0x2e, 0xa0, 0x43, 0xff}
	blue       = color.RGBA{0x1f, 0x6f, 0xeb, 0xff}
	canary     = color.RGBA{0xff, 0xd3, 0x3d, 0xff}
)

func main() {
	out := "images/icon.png"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	f, err := os.Create(out)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, draw()); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// draw samples each pixel 4×4 times so the edges are anti-aliased.
func draw() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var r, g, b, a float64
			for sy := 0; sy < 4; sy++ {
				for sx := 0; sx < 4; sx++ {
					c := shade(float64(x)+(float64(sx)+0.5)/4, float64(y)+(float64(sy)+0.5)/4)
					r, g, b, a = r+float64(c.R)*float64(c.A), g+float64(c.G)*float64(c.A), b+float64(c.B)*float64(c.A), a+float64(c.A)
				}
			}
			if a > 0 {
				img.SetNRGBA(x, y, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(a / 16)})
			}
		}
	}
	return img
}

// shade is the colour at point (x, y): outside the rounded square is transparent.
func shade(x, y float64) color.RGBA {
	if !inRoundedSquare(x, y, 4, 24) {
		return color.RGBA{}
	}
	dx, dy := x-size/2, y-size/2
	d := math.Hypot(dx, dy)
	switch {
	case d < 14:
		return canary
	case d >= 30 && d <= 48:
		// Angle clockwise from 12 o'clock; the split is 70 % green, 30 % blue, with small gaps.
		a := math.Mod(math.Atan2(dx, -dy)*180/math.Pi+360, 360)
		switch {
		case a > 4 && a < 248:
			return green
		case a > 256 && a < 356:
			return blue
		}
	}
	return background
}

func inRoundedSquare(x, y, margin, radius float64) bool {
	lo, hi := margin+radius, size-margin-radius
	cx, cy := math.Max(lo, math.Min(x, hi)), math.Max(lo, math.Min(y, hi))
	return math.Hypot(x-cx, y-cy) <= radius
}
