package plan

import "github.com/mlcanary/mlcanary/internal/config"

// Prior is one stage an offline plan performs before the stage it plans, to reach the live state
// that stage assumes.
type Prior struct {
	Stage config.Stage
	// Image says, for a Blue_0, whose image it deploys as blue: green's in the first release (which
	// ends with green running it), blue's afterwards.
	Image config.Version
}

// firstReleasePath is the documented first release, from an empty namespace to green alone serving
// 100% (README, "First release").
var firstReleasePath = []Prior{
	{Stage: config.Stage{Kind: config.KindBlue0}, Image: config.Green},
	{Stage: config.Stage{Kind: config.KindBlue100, BlueWeight: 100}},
	{Stage: config.Stage{Kind: config.KindBlueGreen, BlueWeight: 100}},
	{Stage: config.Stage{Kind: config.KindGreen100}},
}

// Assumed returns the stages of the documented flow that lead, from an empty namespace, to the
// live state an offline plan of s assumes: one in which s's preconditions hold, as the stage
// before it in the flow leaves it (README, "Stages"). Green is live in every one (the first
// release: Blue_0, Blue_100, Blue_Green, Green_100), and then:
//
//	Blue_0                 green only (the steady state)
//	Blue_N (1..99)         after Blue_0 deployed blue
//	Shadow_N (1..100)      after Blue_0 deployed blue
//	Blue_100               after Blue_50
//	Blue_Green, Rollback   after Blue_100 (Rollback: the furthest blue gets before green has its image)
//	Green_100              after Blue_Green
//
// Performing them (rather than writing the state by hand) leaves every object with what a real
// earlier stage writes: the mlcanary.io/* record and ownership annotations, labels and hashes.
func Assumed(s config.Stage) []Prior {
	path := append([]Prior(nil), firstReleasePath...)
	blue0 := Prior{Stage: config.Stage{Kind: config.KindBlue0}, Image: config.Blue}
	blue50 := Prior{Stage: config.Stage{Kind: config.KindBlueN, BlueWeight: 50}}
	blue100 := Prior{Stage: config.Stage{Kind: config.KindBlue100, BlueWeight: 100}}
	blueGreen := Prior{Stage: config.Stage{Kind: config.KindBlueGreen, BlueWeight: 100}}
	switch s.Kind {
	case config.KindBlue0:
	case config.KindBlueN, config.KindShadow:
		path = append(path, blue0)
	case config.KindBlue100:
		path = append(path, blue0, blue50)
	case config.KindBlueGreen, config.KindRollback:
		path = append(path, blue0, blue50, blue100)
	case config.KindGreen100:
		path = append(path, blue0, blue50, blue100, blueGreen)
	}
	return path
}
