module tlsgate.invalid/bench-load

go 1.24
