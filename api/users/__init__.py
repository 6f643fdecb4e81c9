"""Users and sign-in (PeerPrep user-service, seed 001's dev login and OAuth): accounts, token
cookies, refresh and logout, OpenID Connect."""
