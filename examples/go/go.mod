module github.com/lashup/liblashup/examples/go

go 1.19

require github.com/lashup/liblashup/bindings/go v0.0.0

replace github.com/lashup/liblashup/bindings/go => ../../bindings/go
