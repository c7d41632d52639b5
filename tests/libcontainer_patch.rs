//! The changes berth carries in its copy of libcontainer (docs/libcontainer-patch.md) that can
//! be checked without a container.

use libcontainer::process::channel::main_channel;
use nix::unistd::Pid;

/// The init process of an `exec` can send InitReady before the intermediate process, which
/// cloned it, sends IntermediateReady: the main process takes them in either order.
#[test]
fn init_ready_may_come_before_intermediate_ready() {
    let (mut sender, mut receiver) = main_channel().expect("channel");
    sender.init_ready().expect("init ready");
    sender
        .intermediate_ready(Pid::from_raw(4242))
        .expect("intermediate ready");
    assert_eq!(
        receiver
            .wait_for_intermediate_ready()
            .expect("intermediate"),
        Pid::from_raw(4242)
    );
    receiver.wait_for_init_ready().expect("init ready kept");

    // The usual order still works, and an early InitReady is not counted twice.
    let (mut sender, mut receiver) = main_channel().expect("channel");
    sender.intermediate_ready(Pid::from_raw(7)).expect("send");
    sender.init_ready().expect("send");
    assert_eq!(
        receiver
            .wait_for_intermediate_ready()
            .expect("intermediate"),
        Pid::from_raw(7)
    );
    receiver.wait_for_init_ready().expect("init ready");
    sender.init_ready().expect("send");
    sender.exec_failed("boom".into()).expect("send");
    receiver.wait_for_init_ready().expect("a second, real one");
    assert!(receiver.wait_for_init_ready().is_err());
}
