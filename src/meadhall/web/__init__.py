"""The browser UI: server-rendered page shells plus static scripts and styles."""
