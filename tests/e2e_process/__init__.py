"""Layer-B sync tests: real `sofs serve` and `sofs sync` processes on 127.0.0.1."""
