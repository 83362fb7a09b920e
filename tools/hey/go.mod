// Module hey builds rakyll/hey, the load generator scripts/bench-loadtest.sh compares mlcanary's loadtest against.
module github.com/mlcanary/mlcanary/tools/hey

go 1.26.0

require (
	github.com/rakyll/hey v0.1.5
	golang.org/x/net v0.48.0 // indirect
	golang.org/x/text v0.33.0 // indirect
)
