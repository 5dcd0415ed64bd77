module github.com/nix-hive/nix-hive

go 1.26.0

require (
	github.com/google/go-github/v60 v60.0.0
	github.com/hashicorp/go-retryablehttp v0.7.8
	github.com/kevinburke/ssh_config v1.6.0
	github.com/sethvargo/go-githubactions v1.3.0
	golang.org/x/sync v0.25.0
	golang.org/x/time v0.15.0
)

require (
	github.com/google/go-querystring v1.1.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
)
