//! Rules for Dockerfiles and compose files.

pub mod docker_hardcoded_secret;
