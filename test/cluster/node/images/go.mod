module example.com/tlsgate/test/cluster/node/images

go 1.24.0
