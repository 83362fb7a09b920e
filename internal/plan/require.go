package plan

import (
	"fmt"

	"github.com/mlcanary/mlcanary/internal/config"
)

// needReadyBlue requires a ready blue, and that it runs the given image when one was given.
func (b *builder) needReadyBlue(establishedBy string) error {
	if err := b.needReady(config.Blue, establishedBy); err != nil {
		return err
	}
	if img := b.state(config.Blue).Image; b.cfg.Image != "" && img != b.cfg.Image {
		return b.refuse("blue runs %s, not the requested %s; Blue_0 deploys a new image as blue", img, b.cfg.Image)
	}
	return b.sameTemplate(config.Blue, "Blue_0 deploys it as blue")
}

// sameTemplate requires v to run the pod template given (--pod-template), when one was given: the
// template, not only the image, is what this release deployed (issue #9). Versions compare by the
// hash recorded on their Deployment (config.TemplateHashAnnotation). A Deployment mlcanary adopted
// keeps its owner's pod spec (mlcanary sets only its image), so it is not compared; a note says
// the template is not applied to it.
func (b *builder) sameTemplate(v config.Version, establishedBy string) error {
	t := b.cfg.Template
	if t == nil {
		return nil
	}
	if st := b.state(v); st.Deployed && st.Shape.Adopted {
		b.note("%s (Deployment %s/%s) was not created by mlcanary and keeps its own pod spec: %s is not applied to it, only the image", v, b.cfg.Namespace, b.cfg.Objects[v].Deployment, t.Source)
		return nil
	}
	if have := b.state(v).TemplateHash; have != t.Hash {
		return b.refuse("%s runs %s, not the one in %s (template hash %s); %s", v, templateName(have), t.Source, t.Hash, establishedBy)
	}
	return nil
}

// templateName describes a recorded template hash for messages.
func templateName(hash string) string {
	if hash == "" {
		return "no pod template of mlcanary's (no " + config.TemplateHashAnnotation + " annotation)"
	}
	return "the pod template with hash " + hash + " (" + config.TemplateHashAnnotation + ")"
}

// needReadyGreenIfDeployed requires green, when it exists, to be ready: the stage routes to it.
func (b *builder) needReadyGreenIfDeployed() error {
	if st := b.state(config.Green); !st.Deployed && st.Deleting == "" {
		return nil
	}
	return b.needReady(config.Green, "re-run Blue_Green to finish deploying it, or fix the Deployment")
}

func (b *builder) needReady(v config.Version, establishedBy string) error {
	st := b.state(v)
	name := fmt.Sprintf("%s (Deployment %s/%s)", v, b.cfg.Namespace, b.cfg.Objects[v].Deployment)
	if st.Deleting != "" {
		return b.refuse("%s must exist and be ready, but %s; traffic stays where it is; %s", name, st.Deleting, establishedBy)
	}
	if !st.Deployed {
		return b.refuse("%s must exist and be ready, but it does not exist; %s", name, establishedBy)
	}
	if !st.Ready && st.Paused {
		return b.refusePaused(v, "will not finish its rollout")
	}
	if !st.Ready {
		err := b.refuse("%s must be ready, but %s; %s", name, st.Reason, establishedBy)
		if st.Wanted >= 1 { // a rollout in progress may finish; a Deployment scaled to 0 will not
			err.Unready = v
		}
		return err
	}
	return nil
}
