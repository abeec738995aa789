//! The command-line conventions `guidellm2pcp` and `pcp llm compare` share: `--flag=value` or
//! `--flag value` (and `-f value`), and what a missing value is called.

use crate::Failure;

/// An option word split into its flag and, for `--flag=value`, its inline value.
pub fn split(word: &str) -> (&str, Option<String>) {
    match word.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
        _ => (word, None),
    }
}

/// The value of option `flag`: its inline value, else the next word; `usage` makes the error
/// when there is neither.
pub fn value(
    flag: &str,
    inline: &Option<String>,
    rest: &mut std::slice::Iter<'_, String>,
    usage: impl Fn(String) -> Failure,
) -> Result<String, Failure> {
    inline
        .clone()
        .or_else(|| rest.next().cloned())
        .ok_or_else(|| usage(format!("option {flag} needs a value")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_separate_values() {
        assert_eq!(split("--output=a.x"), ("--output", Some("a.x".into())));
        assert_eq!(split("-o"), ("-o", None));
        assert_eq!(split("-o=x"), ("-o=x", None));
        let words = ["next".to_string()];
        let mut rest = words.iter();
        let usage = |m: String| Failure::Usage(m);
        assert_eq!(value("-o", &None, &mut rest, usage).unwrap(), "next");
        let e = value("-o", &None, &mut rest, usage).unwrap_err();
        assert!(matches!(e, Failure::Usage(m) if m == "option -o needs a value"));
        assert_eq!(
            value("--x", &Some("v".into()), &mut rest, usage).unwrap(),
            "v"
        );
    }
}
