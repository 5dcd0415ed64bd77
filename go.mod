module github.com/nix-hive/nix-hive

go 1.26.0

require (
	github.com/google/go-github/v60 v60.0.0
	github.com/sethvargo/go-githubactions v1.3.0
	golang.org/x/oauth2 v0.38.0
	golang.org/x/sync v0.25.0
)

require github.com/google/go-querystring v1.1.0 // indirect
