module github.com/eva-lora/eva

go 1.26.8

require go.yaml.in/yaml/v3 v3.0.6

require (
	github.com/ardanlabs/jinja v1.8.0
	github.com/ebitengine/purego v0.11.3 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
)
