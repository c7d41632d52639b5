//! Making images from Dockerfiles: the parser (`parser`), variable substitution and word
//! splitting (`words`), the config-only instructions shared with `commit -c` (`config_ops`).

pub mod config_ops;
pub mod parser;
pub mod words;
