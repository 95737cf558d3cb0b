//! The engine on the real kernel, each test in its own sandbox: apply, re-apply, edits,
//! scan round trips, destroy, safety around what nslab does not own, and failures.

use nslab_model::identity::Netns;
use nslab_model::{Lab, Link, Node};
use nslab_tests::expected::{differences, expected_state};
use nslab_tests::kernel::{read_kernel_state, KernelState};
use nslab_tests::paths::{example, reference_lab};
use nslab_tests::sandbox::Sandbox;

fn lab(name: &str) -> Lab {
    nslab_tests::paths::example_lab(name)
}

fn path(name: &str) -> String {
    example(name).display().to_string()
}

fn write(dir: &tempfile::TempDir, lab: &Lab) -> String {
    let path = dir.path().join(format!("{}.json", lab.name));
    std::fs::write(&path, nslab_model::export::to_json(lab)).unwrap();
    path.display().to_string()
}

/// A sandbox holding seed-bridge, a directory for edited files, and the lab to edit.
fn applied_seed_bridge() -> (Sandbox, tempfile::TempDir, Lab) {
    let sandbox = Sandbox::new();
    sandbox.nslab_ok(&["apply", "--yes", &path("seed-bridge")]);
    (sandbox, tempfile::tempdir().unwrap(), lab("seed-bridge"))
}

fn assert_holds(sandbox: &Sandbox, lab: &Lab) {
    let found = differences(&expected_state(lab), &read_kernel_state(sandbox));
    assert!(found.is_empty(), "the kernel differs from lab `{}`:\n{}", lab.name, found.join("\n"));
}

/// Applies the edited lab in `file`: the kernel then holds it, and a full reading agrees
/// with the apply's verify, which read only what the edit touched.
fn apply_edit(sandbox: &Sandbox, file: &str, edited: &Lab) {
    sandbox.nslab_ok(&["apply", "--yes", file]);
    assert_holds(sandbox, edited);
    let output = sandbox.nslab(&["plan", "--exit-code", file]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
}

/// What a lab may leave: nothing but the machine's run lock (`/run/nslab/run.lock`, kept as
/// lock files are: deleting one under a waiting run would let a third run in beside it).
const LEFTOVERS: &str = "ip netns list; ls /run/netns; ls /run/nslab | grep -vx run.lock; \
    ip -o link show | grep -v ': lo:' || true";

fn assert_empty(sandbox: &Sandbox) {
    assert_eq!(sandbox.sh(LEFTOVERS).trim(), "", "something was left behind");
}

/// After `ip netns delete` (the reference scripts' `down`) the kernel removes the veth ends
/// outside the namespace in the background: wait for that, bounded.
fn wait_until_empty(sandbox: &Sandbox) {
    for _ in 0..100 {
        if sandbox.sh(LEFTOVERS).trim().is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_empty(sandbox);
}

#[test]
fn every_example_applies_and_pings_cross_it() {
    for name in ["seed-veth", "seed-bridge", "router"] {
        let sandbox = Sandbox::new();
        let output = sandbox.nslab_ok(&["apply", "--yes", &path(name)]);
        assert!(output.contains(&format!("applied lab `{name}`")), "{output}");
        assert_holds(&sandbox, &lab(name));
        let exists = sandbox.sh(&format!("cat /run/nslab/{name}.json"));
        assert!(exists.contains(&format!("\"name\": \"{name}\"")));
    }
    let sandbox = Sandbox::new();
    sandbox.nslab_ok(&["apply", "--yes", &path("seed-bridge")]);
    for (from, to) in [("ns0", "172.17.0.102"), ("ns1", "172.17.0.103"), ("ns2", "172.17.0.101"), ("ns0", "172.17.0.1")]
    {
        assert!(sandbox.pings(from, to, 2), "{from} cannot reach {to}");
    }
    let sandbox = Sandbox::new();
    sandbox.nslab_ok(&["apply", "--yes", &path("router")]);
    assert!(sandbox.pings("left", "10.0.2.2", 2));
    assert!(sandbox.pings("right", "10.0.1.2", 2));
    assert!(sandbox.pings("left", "fd00:2::2", 6), "IPv6 across the router");
}

#[test]
fn without_forwarding_the_router_does_not_route() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let mut router = lab("router");
    let Node::Namespace(middle) = &mut router.nodes[1] else { panic!() };
    middle.ipv4_forwarding = false;
    sandbox.nslab_ok(&["apply", "--yes", &write(&dir, &router)]);
    assert!(sandbox.pings("left", "10.0.1.1", 2), "the router itself answers");
    assert!(!sandbox.pings("left", "10.0.2.2", 2), "but does not forward");
    // Turning forwarding on is a one-op edit, and then it routes.
    middle_forwarding(&mut router, true);
    let plan = sandbox.nslab_ok(&["plan", &write(&dir, &router)]);
    assert!(plan.contains("# 1 change"), "{plan}");
    sandbox.nslab_ok(&["apply", "--yes", &write(&dir, &router)]);
    assert!(sandbox.pings("left", "10.0.2.2", 2));
}

fn middle_forwarding(router: &mut Lab, on: bool) {
    let Node::Namespace(middle) = &mut router.nodes[1] else { panic!() };
    middle.ipv4_forwarding = on;
}

/// nslab asks for one queue each way (the kernel would otherwise allocate one per CPU and
/// shrink the used ones to one, an RCU wait per end under its RTNL lock): every veth end,
/// in the host and in the namespaces, must have been made that way.
#[test]
fn veths_are_created_with_one_queue_each_way() {
    let sandbox = Sandbox::new();
    sandbox.nslab_ok(&["apply", "--yes", &path("seed-bridge")]);
    sandbox.nslab_ok(&["apply", "--yes", &path("router")]);
    let mut ends = Vec::new();
    let namespaces: Vec<String> = sandbox.sh("ip netns list | cut -d' ' -f1").lines().map(str::to_string).collect();
    let mut places: Vec<Vec<&str>> = vec![vec![]];
    places.extend(namespaces.iter().map(|ns| vec!["-n", ns.as_str()]));
    for place in places {
        let mut args = place.clone();
        args.extend(["-d", "link", "show", "type", "veth"]);
        for link in sandbox.ip_json(&args).as_array().unwrap() {
            ends.push((
                format!("{place:?} {}", link["ifname"]),
                link["num_tx_queues"].clone(),
                link["num_rx_queues"].clone(),
            ));
        }
    }
    assert_eq!(ends.len(), 10, "the two labs' veth ends: {ends:?}");
    for (end, tx, rx) in ends {
        assert_eq!((tx.as_u64(), rx.as_u64()), (Some(1), Some(1)), "queues of {end}");
    }
}

#[test]
fn applying_twice_changes_nothing_the_second_time() {
    let sandbox = Sandbox::new();
    sandbox.nslab_ok(&["apply", "--yes", &path("seed-bridge")]);
    let before = read_kernel_state(&sandbox);
    let output = sandbox.nslab(&["plan", "--exit-code", &path("seed-bridge")]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
    let again = sandbox.nslab_ok(&["apply", "--yes", &path("seed-bridge")]);
    assert!(again.contains("nothing to do"), "{again}");
    assert_eq!(read_kernel_state(&sandbox), before);
}

#[test]
fn a_bridge_and_an_interface_meant_down_stay_down_until_the_lab_says_up() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let mut lab = lab("seed-bridge");
    let Node::Bridge(bridge) = &mut lab.nodes[0] else { panic!("seed-bridge starts with its bridge") };
    bridge.up = false;
    let Link::Veth(veth) = &mut lab.links[0];
    veth.b.up = false;
    sandbox.nslab_ok(&["apply", "--yes", &write(&dir, &lab)]);
    assert_holds(&sandbox, &lab);
    let output = sandbox.nslab(&["plan", "--exit-code", &write(&dir, &lab)]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
    let Node::Bridge(bridge) = &mut lab.nodes[0] else { panic!() };
    bridge.up = true;
    let plan = sandbox.nslab_ok(&["plan", &write(&dir, &lab)]);
    assert!(plan.contains("# 1 change") && plan.contains("ip link set dev docker0 up"), "{plan}");
    sandbox.nslab_ok(&["apply", "--yes", &write(&dir, &lab)]);
    assert_holds(&sandbox, &lab);
}

#[test]
fn an_edit_plans_only_its_ops_and_the_kernel_follows() {
    let (sandbox, dir, mut edited) = applied_seed_bridge();
    let Link::Veth(veth) = &mut edited.links[1];
    veth.b.name = "uplink".into();
    veth.b.addresses = vec!["172.17.0.112/16".into()];
    veth.b.mtu = Some(1400);
    veth.a.mtu = Some(1400);
    let file = write(&dir, &edited);
    let output = sandbox.nslab(&["plan", "--exit-code", &file]);
    assert_eq!(output.status.code(), Some(3));
    let plan = String::from_utf8_lossy(&output.stdout);
    let commands: Vec<&str> = plan.lines().filter(|line| !line.starts_with('#')).collect();
    assert!(commands.len() <= 8, "{plan}");
    assert!(commands.iter().all(|c| c.contains("ns1") || c.contains("veth2")), "only ns1's link: {plan}");
    assert!(!plan.contains("link add") && !plan.contains("netns add"), "nothing rebuilt: {plan}");
    apply_edit(&sandbox, &file, &edited);
    assert!(sandbox.pings("ns0", "172.17.0.112", 2));
}

/// Verify reads each namespace as soon as the run is done with it: one the run deletes is
/// not there to read, and one it creates is read before the rest of the run is done.
#[test]
fn an_edit_removing_one_namespace_and_adding_another_verifies_and_holds() {
    let (sandbox, dir, mut edited) = applied_seed_bridge();
    let Node::Namespace(ns2) = &mut edited.nodes[3] else { panic!("seed-bridge's fourth node is ns2") };
    ns2.name = "ns3".into();
    let Link::Veth(veth) = &mut edited.links[2];
    veth.a.name = "veth6".into();
    veth.b.node = "ns3".into();
    veth.b.addresses = vec!["172.17.0.104/16".into()];
    let file = write(&dir, &edited);
    let output = sandbox.nslab(&["plan", &file]);
    let plan = String::from_utf8_lossy(&output.stdout);
    assert!(plan.contains("ip netns delete ns2") && plan.contains("ip netns add ns3"), "{plan}");
    assert!(!plan.contains("ns0") && !plan.contains("ns1"), "the rest is not rebuilt: {plan}");
    apply_edit(&sandbox, &file, &edited);
    assert!(sandbox.pings("ns0", "172.17.0.104", 2));
}

/// Each reference lab, built by hand, scans to a file that builds the same kernel; neither
/// it nor nslab's own build of it has anything a lab cannot hold (the kernel's defaults,
/// such as every interface's settings and queueing discipline, are not named).
#[test]
fn hand_built_labs_scan_and_apply_back_to_the_same_kernel() {
    for script in ["seed-veth", "seed-bridge", "router"] {
        let sandbox = Sandbox::new();
        let dir = tempfile::tempdir().unwrap();
        let script_path = reference_lab(script);
        let script_path = script_path.display();
        sandbox.sh(&format!("sh {script_path} up"));
        let by_hand = comparable(read_kernel_state(&sandbox));
        let scanned = dir.path().join("scanned.json");
        let scanned = scanned.to_str().unwrap();
        assert_scans_whole(&sandbox, scanned, script);
        sandbox.sh(&format!("sh {script_path} down"));
        wait_until_empty(&sandbox);
        sandbox.nslab_ok(&["apply", "--yes", scanned]);
        assert_eq!(comparable(read_kernel_state(&sandbox)), by_hand, "{script}");
        assert_scans_whole(&sandbox, &dir.path().join("again.json").display().to_string(), script);
    }
}

/// Scans the sandbox's kernel into `file`; nothing is left out.
fn assert_scans_whole(sandbox: &Sandbox, file: &str, name: &str) {
    let output = sandbox.nslab(&["scan", "-o", file, "--name", name]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{name}: {stderr}");
    assert!(!stderr.contains("left out"), "{name}: {stderr}");
}

/// A lab built by hand may hold what a lab file cannot say: scan names each such thing,
/// on its standard error and in the lab's description, keeps the rest, and writes a lab
/// that nslab applies (a multipath route or one through a macvlan once made it write
/// routes that nslab itself refused, as did one address twice in a namespace or on a
/// link, a veth looping into its bridge, `ip route append` and `onlink`; traffic control
/// and settings such as `rp_filter` or a bridge port's `hairpin` were lost without a word).
#[test]
fn scan_names_what_a_lab_cannot_hold_and_writes_a_lab_that_applies() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    sandbox.sh("ip netns add a && ip netns add b && ip link add va netns a type veth peer name vb netns b \
         && ip -n a link add br0 type bridge stp_state 1 && ip -n a link add link br0 name mv0 type macvlan \
         && ip -n a addr add 10.0.0.1/24 dev va && ip -n b addr add 10.0.0.2/24 dev vb \
         && ip -n a addr add 10.1.0.1/24 dev mv0 \
         && ip -n a link set va up && ip -n b link set vb up && ip -n a link set br0 up && ip -n a link set mv0 up \
         && ip -n a route add 10.5.0.0/16 nexthop via 10.0.0.2 nexthop via 10.0.0.3 \
         && ip -n a route add 10.7.0.0/16 dev mv0 \
         && ip -n a route add 10.8.0.0/16 via 10.0.0.2 src 10.0.0.1 mtu 1400 \
         && ip -n a route add blackhole 10.99.0.0/16 \
         && ip -n a route add 172.17.0.0/16 dev va table 100 \
         && ip -n a rule add from 10.0.0.0/24 table 100 priority 100 \
         && ip -n a addr add 10.3.0.1 peer 10.3.0.2/32 dev va \
         && ip -n a neigh add 10.0.0.50 lladdr 02:00:00:00:00:50 dev va nud permanent \
         && ip link add wa netns a type veth peer name wb netns b \
         && ip -n a addr add 10.0.0.1/24 dev wa && ip -n a addr add 10.2.0.1/24 dev wa \
         && ip -n b addr add 10.2.0.1/24 dev wb \
         && ip -n a link add l1 type veth peer name l2 \
         && ip -n a link set l1 master br0 && ip -n a link set l2 master br0 \
         && ip -n a route append 10.8.0.0/16 via 10.0.0.3 \
         && ip -n a route add 10.9.0.0/16 via 192.168.77.1 dev va onlink \
         && tc -n b qdisc add dev vb root tbf rate 1mbit burst 32kbit latency 400ms && tc -n b qdisc add dev vb ingress \
         && tc -n b qdisc add dev wb root handle 1: htb && tc -n b class add dev wb parent 1: classid 1:10 htb rate 1mbit \
         && tc -n b qdisc add dev wb parent 1:10 pfifo \
         && ip netns exec a sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.wa.proxy_arp=1 \
         && ip link add p0 netns a type veth peer name p1 netns b && ip -n a link set p0 master br0 \
         && ip -n a link set dev p0 type bridge_slave hairpin on learning off");
    let scanned = dir.path().join("scanned.json");
    let scanned = scanned.to_str().unwrap();
    let output = sandbox.nslab(&["scan", "-o", scanned, "--name", "by-hand"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    for said in [
        "`mv0` in namespace `a` (a macvlan interface)",
        "route `10.5.0.0/16 nexthop via 10.0.0.2 dev va weight 1 nexthop via 10.0.0.3 dev va weight 1` in namespace `a` (several next hops; a lab's route has one)",
        "route `10.7.0.0/16 dev mv0` in namespace `a` (through `mv0`, which is not in the lab)",
        "`mtu 1400`, `src 10.0.0.1` of route `10.8.0.0/16 via 10.0.0.2 dev va` in namespace `a`",
        "`ip route add blackhole 10.99.0.0/16` in namespace `a`",
        "`ip route add 172.17.0.0/16 dev va table 100` in namespace `a`",
        "`ip rule add from 10.0.0.0/24 priority 100 lookup 100` in namespace `a`",
        "`stp_state 1` of bridge `br0` in namespace `a`",
        "`address 10.3.0.1 peer 10.3.0.2/32` of `va` in namespace `a`",
        "`ip neigh add 10.0.0.50 lladdr 02:00:00:00:00:50 dev va nud permanent` in namespace `a`",
        "address `10.0.0.1/24` of `wa` in namespace `a` (`va` there has it too; a lab gives an address once per namespace)",
        "the veth `l1`-`l2` in namespace `a` (both ends on bridge `br0`, a loop a lab cannot have)",
        "route `10.8.0.0/16 via 10.0.0.3 dev va` in namespace `a` (a second route to 10.8.0.0/16 with metric 0 (`ip route append`); a lab's routes differ in destination or metric)",
        "route `10.9.0.0/16 via 192.168.77.1 dev va onlink` in namespace `a` (its gateway is in none of the namespace's subnets, reached only through `onlink`, which a lab's route cannot say)",
        "address `10.2.0.1/24` of `wb` in namespace `b` (`wa` in namespace `a` on the same link has it; a lab gives an address once per link)",
        "`qdisc tbf root`, `qdisc ingress` of `vb` in namespace `b`",
        "`qdisc htb root`, `qdisc pfifo parent 1:10` of `wb` in namespace `b`",
        "`sysctl net.ipv4.conf.all.rp_filter=2` in namespace `a`",
        "`sysctl net.ipv4.conf.wa.proxy_arp=1` of `wa` in namespace `a`",
        "`hairpin on`, `learning off` of `p0` in namespace `a`",
    ] {
        assert!(stderr.contains(&format!("nslab: scan left out {said}\n")), "{said}:\n{stderr}");
    }
    assert_eq!(stderr.matches("left out").count(), 20, "nothing else: {stderr}");
    assert!(!stderr.contains("error") && !stderr.contains("warning"), "{stderr}");
    sandbox.sh("ip netns delete a && ip netns delete b");
    wait_until_empty(&sandbox);
    sandbox.nslab_ok(&["apply", "--yes", scanned]);
    let routes: Vec<String> = read_kernel_state(&sandbox).namespaces[&Netns::Named("a".into())]
        .routes
        .iter()
        .map(|route| format!("{} via {:?} dev {}", route.destination, route.via, route.dev))
        .collect();
    assert_eq!(routes, ["10.8.0.0/16 via Some(\"10.0.0.2\") dev va"]);
}

/// A namespace something still runs in is not deleted: that would only take its name away
/// while the kernel keeps it (and the lab's veth end on the bridge) alive, and destroy
/// would wait for it. Destroy and an edit that removes it are refused, naming the process,
/// and change nothing; the edit with `--kill` ends it and goes through (destroy's
/// `--kill` is the next test's).
#[test]
fn a_namespace_something_runs_in_is_not_deleted_and_the_process_is_named() {
    let (sandbox, dir, mut edited) = applied_seed_bridge();
    let sleeper = sandbox.sleep_in("ns2");
    let pid = &sleeper.pid;
    let before = read_kernel_state(&sandbox);
    let said = format!("namespace `ns2` is in use by process {pid} (`sleep`)");

    let output = sandbox.nslab(&["destroy", "--yes", &path("seed-bridge")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&said) && stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(read_kernel_state(&sandbox), before);

    edited.nodes.retain(|node| node.name() != "ns2");
    edited.links.retain(|Link::Veth(veth)| veth.b.node != "ns2");
    let file = write(&dir, &edited);
    let output = sandbox.nslab(&["apply", "--yes", &file]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&said), "{stderr}");
    assert_eq!(read_kernel_state(&sandbox), before);

    // `--kill` ends it first, says so, and the edit goes through: ns2 alone is gone.
    let output = sandbox.nslab(&["apply", "--yes", "--kill", &file]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("nslab: ended process {pid} (`sleep`) in namespace `ns2`")), "{stderr}");
    // Ended: gone, or a zombie until its parent reaps it, with no namespace either way.
    assert!(!sandbox.try_sh(&format!("readlink /proc/{pid}/ns/net")).status.success(), "the process has ended");
    let mut namespaces: Vec<String> = sandbox
        .sh("ip netns list")
        .lines()
        .map(|line| line.split(' ').next().unwrap_or_default().to_string())
        .collect();
    namespaces.sort();
    assert_eq!(namespaces, ["ns0", "ns1"]);
    sandbox.nslab_ok(&["destroy", "--yes", &file]);
    assert_empty(&sandbox);
}

/// `--kill` also ends what ignores SIGTERM (SIGKILL a second later), and what such a
/// process leaves behind: here the `sleep` its loop had started, orphaned when the shell is
/// killed, ended in a second round.
#[test]
fn destroy_kill_ends_a_shell_that_ignores_sigterm_and_what_it_leaves_behind() {
    let (sandbox, _dir, _lab) = applied_seed_bridge();
    let shell = sandbox.start_in("ns1", "sh -c 'trap \"\" TERM; while :; do sleep 1; done'", "sh");
    let output = sandbox.nslab(&["destroy", "--yes", "--kill", &path("seed-bridge")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("nslab: ended process {} (`sh`) in namespace `ns1`", shell.pid)), "{stderr}");
    assert!(stderr.contains("(`sleep`) in namespace `ns1`"), "its sleep is named too: {stderr}");
    assert_empty(&sandbox);
}

/// MACs are random at creation: leave them out of a comparison of two builds.
fn comparable(mut state: KernelState) -> KernelState {
    for namespace in state.namespaces.values_mut() {
        for link in namespace.links.values_mut() {
            link.mac.clear();
        }
    }
    state
}

#[test]
fn destroy_leaves_nothing_behind() {
    for name in ["seed-veth", "seed-bridge", "router"] {
        let sandbox = Sandbox::new();
        sandbox.nslab_ok(&["apply", "--yes", &path(name)]);
        let output = sandbox.nslab_ok(&["destroy", "--yes", &path(name)]);
        assert!(output.contains(&format!("destroyed lab `{name}`")), "{output}");
        // Veth ends outside the lab's namespaces (the bridge's ports) go with them, not
        // by a delete of their own.
        let deleted_links: Vec<&str> = output.lines().filter(|line| line.starts_with("ip link delete")).collect();
        let bridges = lab(name).nodes.iter().filter(|node| matches!(node, Node::Bridge(_))).count();
        assert_eq!(deleted_links.len(), bridges, "{output}");
        assert_empty(&sandbox);
        // And the names are free again at once (no EEXIST from a dying namespace).
        sandbox.nslab_ok(&["apply", "--yes", &path(name)]);
        sandbox.nslab_ok(&["destroy", "--yes", &path(name)]);
        assert_empty(&sandbox);
    }
}

/// A lab file edited into an invalid one after its apply (here an address no kernel
/// takes) still destroys what the lab owns: destroy goes by the lab's name and the marks
/// in the kernel, and refusing it would leave the lab behind.
#[test]
fn a_lab_file_broken_since_its_apply_still_destroys_its_lab() {
    let (sandbox, dir, mut broken) = applied_seed_bridge();
    let Link::Veth(veth) = &mut broken.links[0];
    veth.a.addresses.push("10.0.0.300/24".into());
    let file = write(&dir, &broken);
    let refused = sandbox.nslab(&["plan", &file]);
    assert_eq!(refused.status.code(), Some(2), "the file is invalid: {}", String::from_utf8_lossy(&refused.stderr));
    let output = sandbox.nslab_ok(&["destroy", "--yes", &file]);
    assert!(output.contains("destroyed lab `seed-bridge`"), "{output}");
    assert_empty(&sandbox);
}

/// Destroys seed-bridge, which must leave its namespace ns1 (not provably the lab's), then
/// deletes that by hand.
fn destroy_leaves_only_ns1(sandbox: &Sandbox) {
    sandbox.nslab_ok(&["destroy", "--yes", &path("seed-bridge")]);
    assert_eq!(sandbox.sh("ls /run/netns").trim(), "ns1");
    sandbox.sh("ip netns delete ns1");
    wait_until_empty(sandbox);
}

/// A namespace made by hand under a lab's name, after its own was deleted by hand, is not
/// the lab's: the record of the lab's mounts must not vouch for it (it is another mount).
#[test]
fn a_namespace_made_by_hand_under_a_lab_name_survives_destroy() {
    let (sandbox, _dir, _lab) = applied_seed_bridge();
    sandbox.sh("ip netns delete ns1 && ip netns add ns1");
    // Its veth's end on the bridge goes in the background; wait, bounded.
    sandbox.sh("for i in $(seq 100); do ip link show veth2 >/dev/null 2>&1 || break; sleep 0.05; done");
    destroy_leaves_only_ns1(&sandbox);
}

/// destroy knows a namespace by the mount its apply made (kept in /run/nslab/LAB.mounts),
/// without reading its mark: one whose mark was taken off by hand still goes with its lab.
/// Without that record, the marks decide: an unmarked namespace is then left alone.
#[test]
fn the_record_of_mounts_vouches_for_a_lab_namespace_and_the_marks_decide_without_it() {
    let (sandbox, _dir, _lab) = applied_seed_bridge();
    sandbox.sh("ip -n ns1 link set lo alias ''");
    sandbox.nslab_ok(&["destroy", "--yes", &path("seed-bridge")]);
    assert_empty(&sandbox);

    sandbox.nslab_ok(&["apply", "--yes", &path("seed-bridge")]);
    sandbox.sh("rm /run/nslab/seed-bridge.mounts && ip -n ns1 link set lo alias ''");
    destroy_leaves_only_ns1(&sandbox);
}

/// A record that is not what nslab writes is ignored, and the marks decide.
#[test]
fn a_damaged_record_of_mounts_is_ignored() {
    let (sandbox, _dir, _lab) = applied_seed_bridge();
    for damage in ["echo '{not json' >", "echo '{\"ns0\": {\"mount\": 1, \"id\": 0}}' >", "truncate -s 0"] {
        sandbox.sh(&format!("{damage} /run/nslab/seed-bridge.mounts"));
        sandbox.nslab_ok(&["destroy", "--yes", &path("seed-bridge")]);
        assert_empty(&sandbox);
        sandbox.nslab_ok(&["apply", "--yes", &path("seed-bridge")]);
    }
    sandbox.nslab_ok(&["destroy", "--yes", &path("seed-bridge")]);
    assert_empty(&sandbox);
}

#[test]
fn what_nslab_did_not_create_is_never_touched() {
    let sandbox = Sandbox::new();
    sandbox.sh("ip netns add ns0 && ip link add docker0 type bridge && ip link set docker0 up");
    let before = read_kernel_state(&sandbox);
    let output = sandbox.nslab(&["apply", "--yes", &path("seed-bridge")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("namespace `ns0` already exists and was not created by nslab"), "{stderr}");
    assert!(
        stderr.contains("interface name `docker0` already exists in the host namespace and was not created by nslab"),
        "{stderr}"
    );
    assert_eq!(read_kernel_state(&sandbox), before, "a refused apply changed the kernel");
    // Taking them over is explicit, and then the lab is built around them.
    sandbox.nslab_ok(&["apply", "--yes", "--adopt", &path("seed-bridge")]);
    assert_holds(&sandbox, &lab("seed-bridge"));
}

/// The file's warnings are shown even when the kernel is in the way: they may be why.
#[test]
fn warnings_are_shown_with_conflicts_too() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    sandbox.sh("ip netns add ns0");
    let mut lonely = lab("seed-bridge");
    lonely.nodes.push(Node::Namespace(nslab_model::lab::NamespaceNode::new("lonely")));
    let output = sandbox.nslab(&["plan", &write(&dir, &lonely)]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("warning at nodes[4]: namespace `lonely` has nothing connected"), "{stderr}");
    assert!(stderr.contains("conflict at nodes[1].name: namespace `ns0` already exists"), "{stderr}");
}

/// `nslab list --json`, by lab name.
fn listed(sandbox: &Sandbox) -> serde_json::Map<String, serde_json::Value> {
    let labs: Vec<serde_json::Value> = serde_json::from_str(&sandbox.nslab_ok(&["list", "--json"])).unwrap();
    labs.into_iter().map(|lab| (lab["name"].as_str().unwrap().to_string(), lab)).collect()
}

/// `nslab list` finds each lab by its marks, whatever else is there (a stray file among
/// the records included), and says whether the kernel still holds it as applied;
/// `destroy --lab` removes one without its file (as its record says it was applied) and
/// leaves the other alone.
/// A lab whose namespaces and interfaces are gone (deleted by hand, or by a destroy cut
/// short before it removed the record) is listed as only a record, with the command that
/// clears it; that destroy, and a plain destroy of its file, finish the job.
#[test]
fn a_lab_that_is_only_a_record_is_listed_so_and_destroy_removes_the_record() {
    for destroy in [vec!["destroy", "--yes", "--lab", "seed-bridge"], vec!["destroy", "--yes", "FILE"]] {
        let sandbox = Sandbox::new();
        let file = path("seed-bridge");
        sandbox.nslab_ok(&["apply", "--yes", &file]);
        sandbox.sh("for ns in ns0 ns1 ns2; do ip netns delete $ns; done; ip link delete docker0");
        // The veth ends in the host go once the kernel has torn the namespaces down.
        let kernel = "ip netns list; ip -o link show | grep -v ': lo:' || true";
        for _ in 0..100 {
            if sandbox.sh(kernel).trim().is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(sandbox.sh(kernel).trim(), "", "the kernel holds nothing of the lab");
        let table = sandbox.nslab_ok(&["list"]);
        assert!(table.contains("nothing in the kernel (only its record)"), "{table}");
        assert!(
            table.contains("`nslab destroy --lab NAME` removes the record") && table.contains("(seed-bridge)"),
            "{table}"
        );

        let args: Vec<&str> = destroy.iter().map(|arg| if *arg == "FILE" { file.as_str() } else { arg }).collect();
        let output = sandbox.nslab_ok(&args);
        assert!(output.contains("nothing to destroy; its record is removed"), "{output}");
        assert_eq!(sandbox.sh("ls /run/nslab | grep -vx run.lock || true"), "", "no record left");
        assert_eq!(sandbox.nslab_ok(&["list"]).trim(), "nslab: the kernel holds no labs");
        let again = sandbox.nslab_ok(&args);
        assert!(again.contains("nothing to destroy") && !again.contains("record"), "{again}");
    }
}

#[test]
fn labs_are_listed_by_their_marks_and_destroyed_by_name() {
    let sandbox = Sandbox::new();
    sandbox.sh("ip netns add by-hand && ip link add hand0 type veth peer name hand1");
    sandbox.sh("echo '{}' > /run/nslab/stray.json");
    sandbox.nslab_ok(&["apply", "--yes", &path("router")]);
    sandbox.nslab_ok(&["apply", "--yes", &path("seed-bridge")]);
    let labs = listed(&sandbox);
    assert_eq!(labs.keys().collect::<Vec<_>>(), ["router", "seed-bridge"], "{labs:?}");
    assert_eq!(labs["router"]["namespaces"], serde_json::json!(["left", "right", "router"]));
    assert_eq!(labs["router"]["host_interfaces"], serde_json::json!([]));
    assert_eq!(labs["seed-bridge"]["host_interfaces"], serde_json::json!(["docker0", "veth0", "veth2", "veth4"]));
    assert_eq!(labs["seed-bridge"]["interfaces"], 7, "three veth pairs and the bridge");
    for lab in labs.values() {
        assert_eq!(lab["standing"]["state"], "as_applied", "{lab}");
    }
    sandbox.sh("ip -n left link set l-eth0 down");
    let router = &listed(&sandbox)["router"];
    assert_eq!(router["standing"]["state"], "changed", "{router}");
    let table = sandbox.nslab_ok(&["list"]);
    assert!(table.lines().any(|line| line.starts_with("router") && line.ends_with("from its last apply")), "{table}");

    sandbox.sh("mv /run/nslab/router.json /run/nslab/router.json.away");
    assert_eq!(listed(&sandbox)["router"]["standing"]["state"], "unrecorded");
    sandbox.sh("mv /run/nslab/router.json.away /run/nslab/router.json");
    let output = sandbox.nslab_ok(&["destroy", "--yes", "--lab", "router"]);
    assert!(output.contains("destroyed lab `router`"), "{output}");
    assert_eq!(listed(&sandbox).keys().collect::<Vec<_>>(), ["seed-bridge"]);
    sandbox.sh("ip netns delete by-hand && ip link delete hand0");
    assert_holds(&sandbox, &lab("seed-bridge"));
    sandbox.nslab_ok(&["destroy", "--yes", "--lab", "seed-bridge"]);
    sandbox.sh("rm /run/nslab/stray.json");
    assert_empty(&sandbox);
    assert_eq!(sandbox.nslab_ok(&["list"]), "nslab: the kernel holds no labs\n");
}

/// The record keeps what only the lab file says: a host route through a device the lab
/// does not make (`lo`) outlives the lab's interfaces, and `destroy --lab`, without the
/// file, still removes it, as the record names it.
#[test]
fn destroy_by_name_removes_the_host_routes_the_record_names() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let mut routed = lab("seed-bridge");
    let mut host = nslab_model::HostNode::new("host");
    host.routes =
        vec![nslab_model::Route { to: "10.98.0.0/24".into(), via: None, dev: Some("lo".into()), metric: None }];
    routed.nodes.push(Node::Host(host));
    sandbox.nslab_ok(&["apply", "--yes", &write(&dir, &routed)]);
    assert_eq!(sandbox.sh("ip route show proto 86").trim(), "10.98.0.0/24 dev lo");
    let output = sandbox.nslab_ok(&["destroy", "--yes", "--lab", "seed-bridge"]);
    assert!(output.contains("ip route del 10.98.0.0/24 dev lo"), "{output}");
    assert_eq!(sandbox.sh("ip route show proto 86").trim(), "", "the host route is gone");
    assert_empty(&sandbox);
}

/// A lab file whose name no lab can have (it picks the record's files: `../x` would reach
/// out of /run/nslab) is refused by destroy, which otherwise takes a file as it is.
#[test]
fn destroy_refuses_a_lab_file_whose_name_no_lab_can_have() {
    let sandbox = Sandbox::new();
    sandbox.nslab_ok(&["apply", "--yes", &path("router")]);
    let dir = tempfile::tempdir().unwrap();
    let mut renamed = lab("router");
    renamed.name = "../router".into();
    let file = dir.path().join("renamed.json");
    std::fs::write(&file, nslab_model::export::to_json(&renamed)).unwrap();
    let output = sandbox.nslab(&["destroy", "--yes", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("renamed.json: error at name: `../router` contains `/`"), "{stderr}");
    assert_holds(&sandbox, &lab("router"));
}

#[test]
fn a_second_lab_is_untouched_by_the_first_ones_apply_and_destroy() {
    let sandbox = Sandbox::new();
    sandbox.nslab_ok(&["apply", "--yes", &path("router")]);
    let router_state = read_kernel_state(&sandbox);
    sandbox.nslab_ok(&["apply", "--yes", &path("seed-bridge")]);
    sandbox.nslab_ok(&["destroy", "--yes", &path("seed-bridge")]);
    assert_eq!(read_kernel_state(&sandbox), router_state);
    assert_holds(&sandbox, &lab("router"));
}

#[test]
fn a_failure_in_the_middle_is_reported_and_undone() {
    // The gateway is outside every connected subnet: validation only warns, the kernel
    // refuses the route, after the namespaces and veths were made.
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let mut broken = lab("router");
    let Node::Namespace(left) = &mut broken.nodes[0] else { panic!() };
    left.routes[0].via = Some("10.9.9.9".into());
    let output = sandbox.nslab(&["apply", "--yes", &write(&dir, &broken)]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`ip -n left route add default via 10.9.9.9` failed"), "{stderr}");
    assert!(stderr.contains("this apply had created were deleted again"), "{stderr}");
    assert_empty(&sandbox);
}

#[test]
fn a_name_the_kernel_refuses_at_apply_time_is_undone() {
    // An interface made by hand carries `veth2` as an alternative name: nslab's observer
    // does not see it as a name, the kernel refuses it when the third veth is made.
    let sandbox = Sandbox::new();
    sandbox.sh("ip link add hand0 type veth peer name hand1 && ip link property add dev hand0 altname veth2");
    let output = sandbox.nslab(&["apply", "--yes", &path("seed-bridge")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ip link add veth2 type veth peer name eth0 netns ns1"), "{stderr}");
    assert!(stderr.contains("EEXIST"), "{stderr}");
    let left = sandbox.sh("ip netns list; ip -o link show | grep -v ': lo:' | grep -v hand || true");
    assert_eq!(left.trim(), "", "the failed apply left things behind");
    assert!(sandbox.sh("ip -o link show").contains("hand0"), "the hand-made pair is untouched");
}

#[test]
fn a_lab_with_errors_changes_nothing() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let mut bad = lab("seed-bridge");
    let Link::Veth(veth) = &mut bad.links[2];
    veth.b.name = "a234567890123456".into();
    let output = sandbox.nslab(&["apply", "--yes", &write(&dir, &bad)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("links[2].b.name"));
    let output = sandbox.nslab(&["plan", &write(&dir, &bad)]);
    assert_eq!(output.status.code(), Some(2));
    assert_empty(&sandbox);
    assert_eq!(sandbox.sh("ls -A /run/nslab"), "", "not even the run lock: bad input is refused before it");
}
