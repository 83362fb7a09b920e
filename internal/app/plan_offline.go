package app

import (
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/engine"
	"github.com/mlcanary/mlcanary/internal/summary"
)

// flagGreenImage is plan's offline-only input for the image green runs on the cluster: no other
// input says it (--image is blue's, the release's), and an offline plan has no cluster to read it
// from.
const flagGreenImage = "green-image"

// checkGreenImage refuses --green-image without --offline (a plan against a cluster reads green's
// image there) and a value that is not an image reference.
func checkGreenImage(image string, offline bool) error {
	if image == "" {
		return nil
	}
	if !offline {
		return &config.InputError{Input: flagGreenImage, Value: image, Allowed: "only with --offline; a plan against a cluster reads green's image there"}
	}
	return config.CheckImage(flagGreenImage, image)
}

// noPlaceholder refuses an offline plan's objects-only output (-o yaml|json, documented for
// `kubectl apply -f -`) that would carry a placeholder image (engine.BlueImagePlaceholder,
// engine.GreenImagePlaceholder): such objects apply, and start pods that can never pull. The
// error names the input that gives the image: --image for blue's (the release's image, which every
// later stage of the documented flow is given), --green-image for green's. The text plan keeps
// its placeholders; a person reads them as what they are.
func noPlaceholder(res *summary.Result, cfg config.Config) error {
	unknown := engine.Placeholders(res.Manifests)
	if len(unknown) == 0 {
		return nil
	}
	input, whose := config.FlagImage, "blue's image (the release's)"
	if unknown[0] == config.Green {
		input, whose = flagGreenImage, "green's image"
	}
	return &config.InputError{Input: input, Value: "", Allowed: "an image reference with a tag or digest: " +
		cfg.Stage.String() + "'s objects hold " + whose + ", which an offline plan -o yaml|json cannot leave as a placeholder"}
}
