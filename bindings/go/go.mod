module github.com/lashup/liblashup/bindings/go

go 1.19
