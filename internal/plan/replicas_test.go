package plan

import (
	"testing"

	"github.com/mlcanary/mlcanary/internal/config"
)

func TestReplicas(t *testing.T) {
	blue50 := config.Stage{Kind: config.KindBlueN, BlueWeight: 50}
	blueGreen := config.Stage{Kind: config.KindBlueGreen, BlueWeight: 100}
	for _, tc := range []struct {
		name           string
		stage          config.Stage
		v              config.Version
		wanted         int32
		carries        bool
		live, liveBlue int32
		want           int32
	}{
		{"a new Deployment gets --replicas", blue50, config.Blue, 2, false, 0, 0, 2},
		{"a version without traffic is scaled to --replicas", blue50, config.Blue, 2, false, 5, 5, 2},
		{"a version with traffic keeps what it runs", blue50, config.Green, 2, true, 5, 1, 5},
		{"a version with traffic grows to --replicas", blue50, config.Green, 4, true, 1, 1, 4},
		{"Blue_Green: green never runs fewer than blue", blueGreen, config.Green, 1, false, 1, 6, 6},
		{"Blue_Green: green keeps more than blue runs", blueGreen, config.Green, 1, false, 8, 6, 8},
		{"Blue_Green: blue follows the traffic rule only", blueGreen, config.Blue, 1, true, 6, 6, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Replicas(tc.stage, tc.v, tc.wanted, tc.carries, tc.live, tc.liveBlue); got != tc.want {
				t.Errorf("Replicas = %d, want %d", got, tc.want)
			}
		})
	}
}
