use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;

#[test]
fn parses_and_labels_keys() {
    assert_eq!(Key::parse("q").unwrap(), Key::ch('q'));
    assert_eq!(Key::parse("ctrl-c").unwrap(), Key::ctrl('c'));
    assert_eq!(Key::parse("f5").unwrap(), Key::plain(KeyCode::F(5)));
    assert_eq!(Key::parse("space").unwrap(), Key::ch(' '));
    assert!(Key::parse("hyper-x").unwrap_err().contains("is not a key"));
    assert!(Key::parse("").is_err());
    assert_eq!(Key::ctrl('c').label(), "C-c");
    assert_eq!(Key::plain(KeyCode::Up).label(), "↑");
}

#[test]
fn shift_is_part_of_characters() {
    let ev = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
    assert_eq!(Key::from_event(&ev), Key::ch('G'));
    let ev = KeyEvent::new(KeyCode::Tab, KeyModifiers::SHIFT);
    assert_eq!(Key::from_event(&ev), Key::plain(KeyCode::BackTab));
}

#[test]
fn contexts_resolve_most_specific_first() {
    let km = Keymap::default();
    let logs = [Context::Logs, Context::List, Context::Global];
    assert_eq!(km.action(&logs, Key::ch('/')), Some(Action::Search));
    assert_eq!(
        km.action(&[Context::List, Context::Global], Key::ch('/')),
        Some(Action::Filter)
    );
    assert_eq!(km.action(&logs, Key::ch('n')), Some(Action::NextMatch));
    assert_eq!(
        km.action(&[Context::List, Context::Global], Key::ch('n')),
        Some(Action::Run)
    );
    assert_eq!(km.action(&[Context::Global], Key::ch('Z')), None);
}

#[test]
fn rebinding_takes_the_key_from_others_in_the_context() {
    let mut km = Keymap::default();
    km.rebind(Action::Restart, vec![Key::ch('s')]).unwrap();
    let list = [Context::List, Context::Global];
    assert_eq!(km.action(&list, Key::ch('s')), Some(Action::Restart));
    assert_eq!(km.action(&list, Key::ch('r')), None);
    assert!(km.binding(Action::StartStop).unwrap().keys.is_empty());
}

#[test]
fn every_action_has_a_binding_and_a_unique_name() {
    let km = Keymap::default();
    for b in &km.bindings {
        assert_eq!(Action::from_name(b.action.name()), Some(b.action));
    }
    let mut names: Vec<_> = km.bindings.iter().map(|b| b.action.name()).collect();
    names.sort();
    let n = names.len();
    names.dedup();
    assert_eq!(n, names.len(), "an action is bound twice");
}

#[test]
fn no_key_is_bound_twice_in_one_context() {
    let km = Keymap::default();
    for (i, a) in km.bindings.iter().enumerate() {
        for b in &km.bindings[i + 1..] {
            if a.context == b.context {
                for key in &a.keys {
                    assert!(
                        !b.keys.contains(key),
                        "{key:?} bound to {:?} and {:?}",
                        a.action,
                        b.action
                    );
                }
            }
        }
    }
}
