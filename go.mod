module github.com/nix-hive/nix-hive

go 1.26

require (
	github.com/google/go-github/v60 v60.0.0 // indirect
	github.com/kevinburke/ssh_config v1.6.0 // indirect
	github.com/sethvargo/go-githubactions v1.3.0 // indirect
	golang.org/x/oauth2 v0.38.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
)
