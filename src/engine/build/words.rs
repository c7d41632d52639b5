//! Variable substitution and word splitting as docker's Dockerfile shell lexer does them:
//! `$V`, `${V}`, `${V:-default}`, `${V-default}`, `${V:+alt}`, `${V+alt}`; no expansion inside
//! single quotes; the escape character escapes the next character (inside double quotes only
//! before `"`, `$` and itself); quotes are removed.

use crate::engine::error::{EngineError, Result};

/// Looks a variable up.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Expands `s` into one word (quotes removed, whitespace kept).
pub fn expand_word(s: &str, vars: Lookup, escape: char) -> Result<String> {
    Ok(lex(s, vars, escape, false)?.join(""))
}

/// Expands `s` and splits it into words at unquoted whitespace.
pub fn expand_words(s: &str, vars: Lookup, escape: char) -> Result<Vec<String>> {
    lex(s, vars, escape, true)
}

fn bad(s: &str, why: &str) -> EngineError {
    EngineError::InvalidInput(format!("cannot expand {s:?}: {why}"))
}

fn lex(s: &str, vars: Lookup, escape: char, split: bool) -> Result<Vec<String>> {
    let chars: Vec<char> = s.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut has_word = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if split && c.is_whitespace() {
            if has_word {
                words.push(std::mem::take(&mut cur));
                has_word = false;
            }
            i += 1;
            continue;
        }
        has_word = true;
        if c == escape {
            if let Some(n) = chars.get(i + 1) {
                cur.push(*n);
            }
            i += 2;
        } else if c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                cur.push(chars[i]);
                i += 1;
            }
            if i == chars.len() {
                return Err(bad(s, "unterminated single quote"));
            }
            i += 1;
        } else if c == '"' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(bad(s, "unterminated double quote")),
                    Some('"') => break,
                    Some(&e) if e == escape => {
                        match chars.get(i + 1) {
                            Some(&n) if n == '"' || n == '$' || n == escape => cur.push(n),
                            Some(&n) => {
                                cur.push(e);
                                cur.push(n);
                            }
                            None => cur.push(e),
                        }
                        i += 2;
                    }
                    Some('$') => i = dollar(&chars, i, vars, &mut cur, s)?,
                    Some(&o) => {
                        cur.push(o);
                        i += 1;
                    }
                }
            }
            i += 1;
        } else if c == '$' {
            // Unquoted, an expanded value is split into words too.
            let mut value = String::new();
            i = dollar(&chars, i, vars, &mut value, s)?;
            for v in value.chars() {
                if split && v.is_whitespace() {
                    if has_word {
                        words.push(std::mem::take(&mut cur));
                        has_word = false;
                    }
                } else {
                    cur.push(v);
                    has_word = true;
                }
            }
        } else {
            cur.push(c);
            i += 1;
        }
    }
    if has_word || !split {
        words.push(cur);
    }
    Ok(words)
}

/// Expands the variable at `chars[i]` (a `$`) into `out`; returns the index after it.
fn dollar(chars: &[char], i: usize, vars: Lookup, out: &mut String, s: &str) -> Result<usize> {
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    match chars.get(i + 1) {
        Some('{') => {
            let mut j = i + 2;
            let start = j;
            while j < chars.len() && name_char(chars[j]) {
                j += 1;
            }
            let name: String = chars[start..j].iter().collect();
            if name.is_empty() {
                return Err(bad(s, "missing variable name in ${}"));
            }
            let value = vars(&name);
            match chars.get(j) {
                Some('}') => {
                    out.push_str(&value.unwrap_or_default());
                    Ok(j + 1)
                }
                Some(&op) if op == ':' || op == '-' || op == '+' => {
                    let (colon, op, mut k) = if op == ':' {
                        (true, chars.get(j + 1).copied().unwrap_or(' '), j + 2)
                    } else {
                        (false, op, j + 1)
                    };
                    let wstart = k;
                    let mut depth = 0;
                    while k < chars.len() && !(chars[k] == '}' && depth == 0) {
                        match chars[k] {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            _ => {}
                        }
                        k += 1;
                    }
                    if k == chars.len() {
                        return Err(bad(s, "missing '}'"));
                    }
                    let word: String = chars[wstart..k].iter().collect();
                    let word = expand_word(&word, vars, '\\')?;
                    let set = value.as_ref().is_some_and(|v| !colon || !v.is_empty());
                    match op {
                        '-' => out.push_str(&if set { value.unwrap_or_default() } else { word }),
                        '+' => {
                            if set {
                                out.push_str(&word)
                            }
                        }
                        '?' => {
                            if !set {
                                return Err(bad(s, &format!("{name}: {word}")));
                            }
                            out.push_str(&value.unwrap_or_default());
                        }
                        _ => return Err(bad(s, &format!("unsupported modifier :{op}"))),
                    }
                    Ok(k + 1)
                }
                _ => Err(bad(s, "missing '}'")),
            }
        }
        Some(&c) if name_char(c) => {
            let mut j = i + 1;
            while j < chars.len() && name_char(chars[j]) {
                j += 1;
            }
            let name: String = chars[i + 1..j].iter().collect();
            out.push_str(&vars(&name).unwrap_or_default());
            Ok(j)
        }
        _ => {
            out.push('$');
            Ok(i + 1)
        }
    }
}

/// Splits `KEY=VALUE` words (ENV, LABEL, ARG); the legacy `KEY VALUE` form when the first word
/// has no `=` and `legacy` is allowed.
pub fn key_values(
    text: &str,
    vars: Lookup,
    escape: char,
    legacy: bool,
) -> Result<Vec<(String, String)>> {
    let words = expand_words(text, vars, escape)?;
    let Some(first) = words.first() else {
        return Err(EngineError::InvalidInput("missing KEY=VALUE".into()));
    };
    if !first.contains('=') && legacy {
        let rest = text.trim_start()[text
            .trim_start()
            .find(char::is_whitespace)
            .unwrap_or(text.trim_start().len())..]
            .trim();
        if rest.is_empty() {
            return Err(EngineError::InvalidInput(format!(
                "{first}: missing a value"
            )));
        }
        return Ok(vec![(first.clone(), expand_word(rest, vars, escape)?)]);
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(EngineError::InvalidInput(format!("{w:?} is not KEY=VALUE"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(n: &str) -> Option<String> {
        match n {
            "A" => Some("alpha".into()),
            "E" => Some(String::new()),
            "S" => Some("a b".into()),
            _ => None,
        }
    }

    #[test]
    fn substitution_forms() {
        let x = |s: &str| expand_word(s, &vars, '\\').unwrap();
        assert_eq!(x("$A/${A}x"), "alpha/alphax");
        assert_eq!(x("${N:-def} ${E:-def} ${E-def}|"), "def def |");
        assert_eq!(x("${A:+set} ${N:+set}|${E+set}"), "set |set");
        assert_eq!(x("'$A' \"$A\" \\$A"), "$A alpha $A");
        assert_eq!(x("cost $"), "cost $");
        assert!(expand_word("${A", &vars, '\\').is_err());
    }

    #[test]
    fn words_and_key_values() {
        assert_eq!(
            expand_words("a \"b c\" $S", &vars, '\\').unwrap(),
            vec!["a", "b c", "a", "b"]
        );
        assert_eq!(
            key_values("K=$A \"L M\"=\"n o\"", &vars, '\\', true).unwrap(),
            vec![("K".into(), "alpha".into()), ("L M".into(), "n o".into())]
        );
        assert_eq!(
            key_values("K  the $A value", &vars, '\\', true).unwrap(),
            vec![("K".into(), "the alpha value".into())]
        );
    }
}
