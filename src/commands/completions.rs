//! `edgebert completions` and `edgebert man`: shell completion scripts and manual pages, generated
//! from the same clap definitions as `--help`, so they never go stale.

use anyhow::{Context, Result};
use clap::{Args, Command};
use clap_complete::Shell;
use std::io::Write;
use std::path::PathBuf;

/// Print a shell completion script for edgebert.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    edgebert completions bash > ~/.local/share/bash-completion/completions/edgebert\n  \
    edgebert completions zsh > ~/.zfunc/_edgebert     (with fpath+=~/.zfunc before compinit in ~/.zshrc)\n  \
    edgebert completions fish > ~/.config/fish/completions/edgebert.fish")]
pub struct CompletionsArgs {
    /// The shell to complete in.
    pub shell: Shell,
}

/// Write manual pages: edgebert(1) and one per command, edgebert-convert(1) and so on.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    edgebert man --dir ~/.local/share/man/man1 && man edgebert\n  \
    edgebert man | man -l -        (read the main page without installing it)")]
pub struct ManArgs {
    /// Write edgebert.1 and edgebert-COMMAND.1 into this folder (created if missing) instead of
    /// printing edgebert.1 to standard output.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs, mut cli: Command) -> Result<()> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cli, "edgebert", &mut out);
    out.flush().context("cannot write the completion script")
}

pub fn man(args: ManArgs, cli: Command) -> Result<()> {
    let Some(dir) = args.dir else {
        let mut out = std::io::stdout().lock();
        clap_mangen::Man::new(cli).render(&mut out).context("cannot write the manual page")?;
        return out.flush().context("cannot write the manual page");
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = vec![write_page(&dir, "edgebert", cli.clone())?];
    for sub in cli.get_subcommands() {
        // clap wants a 'static name; a handful of short strings, once per process.
        let name: &'static str = Box::leak(format!("edgebert-{}", sub.get_name()).into_boxed_str());
        written.push(write_page(&dir, name, sub.clone().name(name))?);
    }
    eprintln!("wrote {} manual pages to {} (edgebert.1 first)", written.len(), dir.display());
    Ok(())
}

fn write_page(dir: &std::path::Path, name: &str, cmd: Command) -> Result<PathBuf> {
    let path = dir.join(format!("{name}.1"));
    let mut bytes = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut bytes).with_context(|| format!("cannot render {name}(1)"))?;
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
