"""Operations tooling run from a checkout: Ray nodes as child processes, the local cluster."""
