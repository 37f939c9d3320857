//! A small argument reader: positional arguments and `--flag [value]` options,
//! in any order. The CLI has a handful of flags; a parser library would cost
//! more build time than it saves.

/// Arguments of one subcommand, consumed as they are read so leftovers can be
/// reported as usage errors.
#[derive(Debug)]
pub struct Args {
    positional: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

impl Args {
    /// Splits `args`; `takes_value` names the options followed by a value.
    pub fn parse(args: &[String], takes_value: &[&str]) -> Result<Self, String> {
        let mut positional = Vec::new();
        let mut options = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "--" {
                positional.extend(it.by_ref().cloned());
                break;
            }
            let is_option = (a.starts_with("--") && a.len() > 2) || (a.starts_with('-') && a.len() == 2);
            if !is_option {
                positional.push(a.clone());
                continue;
            }
            let (name, inline) = match a.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
                _ => (a.clone(), None),
            };
            if takes_value.contains(&name.as_str()) {
                let value = match inline {
                    Some(v) => v,
                    None => it.next().cloned().ok_or_else(|| format!("{name} needs a value"))?,
                };
                options.push((name, Some(value)));
            } else if inline.is_some() {
                return Err(format!("{name} takes no value"));
            } else {
                options.push((name, None));
            }
        }
        Ok(Self { positional, options })
    }

    /// Removes and returns every value given for `name` (repeatable options).
    pub fn values(&mut self, name: &str) -> Vec<String> {
        let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.options).into_iter().partition(|(n, _)| n == name);
        self.options = kept;
        taken.into_iter().filter_map(|(_, v)| v).collect()
    }

    /// The last value given for `name`.
    pub fn value(&mut self, name: &str) -> Option<String> {
        self.values(name).pop()
    }

    /// Whether the boolean flag `name` was given.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.options.len();
        self.options.retain(|(n, _)| n != name);
        self.options.len() != before
    }

    /// The positional arguments; an error if any option was not consumed.
    pub fn finish(self) -> Result<Vec<String>, String> {
        match self.options.first() {
            Some((name, _)) => Err(format!("unknown option {name}")),
            None => Ok(self.positional),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_options_anywhere() {
        let mut a = Args::parse(&s(&["f.json", "-H", "a: 1", "--json", "--ip=1.2.3.4", "-H", "b: 2"]), &["-H", "--ip"]).unwrap();
        assert_eq!(a.values("-H"), s(&["a: 1", "b: 2"]));
        assert_eq!(a.value("--ip").as_deref(), Some("1.2.3.4"));
        assert!(a.flag("--json"));
        assert_eq!(a.finish().unwrap(), s(&["f.json"]));
    }

    #[test]
    fn leftovers_and_missing_values_are_errors() {
        assert!(Args::parse(&s(&["--ip"]), &["--ip"]).is_err());
        let a = Args::parse(&s(&["--bogus"]), &[]).unwrap();
        assert!(a.finish().is_err());
    }
}
