//! `berth login` and `berth logout`.

use std::io::{BufRead, IsTerminal, Write};

use clap::{ArgAction, Args, Subcommand};

use crate::engine::distribution::credentials::Credentials;
use crate::engine::distribution::login;

/// Registry login commands.
#[derive(Debug, Subcommand)]
pub enum LoginCommand {
    /// Log in to a registry (credentials are checked, then stored mode 0600)
    Login(LoginArgs),
    /// Log out from a registry
    Logout(LogoutArgs),
}

/// `berth login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// User name
    #[arg(short, long)]
    pub username: Option<String>,
    /// Password (prefer --password-stdin: this shows in the process list)
    #[arg(short, long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from standard input
    #[arg(long)]
    pub password_stdin: bool,
    /// Verify TLS certificates; =false also allows plain http
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub tls_verify: bool,
    /// Registry host[:port] (default docker.io)
    pub server: Option<String>,
}

/// `berth logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Registry host[:port] (default docker.io)
    pub server: Option<String>,
}

fn prompt(label: &str, hidden: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!(
            "{} required: pass it with {} (standard input is not a terminal)",
            label.to_lowercase(),
            if hidden {
                "-p or --password-stdin"
            } else {
                "-u"
            }
        );
    }
    eprint!("{label}: ");
    let _ = std::io::stderr().flush();
    let saved = if hidden {
        use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
        let saved = tcgetattr(&stdin).ok();
        if let Some(t) = &saved {
            let mut quiet = t.clone();
            quiet.local_flags.remove(LocalFlags::ECHO);
            let _ = tcsetattr(&stdin, SetArg::TCSANOW, &quiet);
        }
        saved
    } else {
        None
    };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(t) = saved {
        let _ = nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &t);
        eprintln!();
    }
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Runs a login command.
pub async fn run(cmd: &LoginCommand) -> anyhow::Result<i32> {
    match cmd {
        LoginCommand::Login(a) => {
            // A bad registry name is refused before any prompt.
            login::registry_host(a.server.as_deref())?;
            let username = match &a.username {
                Some(u) => u.clone(),
                None => prompt("Username", false)?,
            };
            let password = match (&a.password, a.password_stdin) {
                (Some(p), _) => p.clone(),
                (None, true) => {
                    let mut text = String::new();
                    std::io::stdin().lock().read_line(&mut text)?;
                    text.trim_end_matches(['\r', '\n']).to_string()
                }
                (None, false) => prompt("Password", true)?,
            };
            let creds = Credentials { username, password };
            login::login(a.server.as_deref(), creds, a.tls_verify).await?;
            println!("Login Succeeded");
            Ok(0)
        }
        LoginCommand::Logout(a) => {
            let host = login::logout(a.server.as_deref())?;
            println!("Removing login credentials for {host}");
            Ok(0)
        }
    }
}
