# Lab hosts as network namespaces. Only terraform_data + local-exec (modules/step): no provider to
# download, so `terraform init` works offline. Every name carries var.lab; scripts are idempotent,
# so a create over leftovers repairs instead of failing.

terraform {
  required_version = ">= 1.5"
  # The state path is given per lab at init (-backend-config=path=...), with TF_DATA_DIR per lab too,
  # so one module serves every lab and nothing of a lab is written into the repository.
  backend "local" {}
}

variable "lab" {
  type        = string
  description = "Lab name: the prefix of every namespace, link and file of this lab."
}

variable "lab_network" {
  type    = string
  default = "198.18.0.0/15"
}

variable "router_netns" {
  type        = string
  description = "The router namespace (named by the provider): it holds the bridges and routes between zones."
}

variable "segments" {
  description = "Bridges in the router namespace, keyed by segment name."
  type = map(object({
    bridge = string
    router = string # router address with prefix length, e.g. 198.18.1.1/24
  }))
}

variable "hosts" {
  description = "Hosts keyed by name; each becomes a namespace with one veth into its segment's bridge."
  type = map(object({
    netns     = string
    port      = string # veth end inside the router namespace
    segment   = string
    address   = string # with prefix length
    router    = string # without prefix length
    role      = string
    zone      = string
    region    = string
    host_dir  = string # the host's own directory tree (namespaces share one filesystem)
    etc_netns = bool   # create /etc/netns/NETNS/ (the client's resolv.conf lives there)
    container = string # the docker provider's container ("" for a namespace host): its namespace is attached, not made
  }))
}

locals {
  scripts = abspath("${path.module}/scripts")
  # Each script takes named variables from its environment; create and destroy get the same set, kept
  # in the resource's input (a destroy-time provisioner may only read `self`).
  core_env = { LAB = var.lab, CORE = var.router_netns }
  segment_env = {
    for name, s in var.segments : name => merge(local.core_env, { BRIDGE = s.bridge, ROUTER_CIDR = s.router })
  }
  host_env = {
    for name, h in var.hosts : name => merge(local.core_env, {
      NETNS        = h.netns
      PORT         = h.port
      BRIDGE       = var.segments[h.segment].bridge
      ADDRESS_CIDR = h.address
      ROUTER       = h.router
      LAB_NETWORK  = var.lab_network
      HOST_DIR     = h.host_dir
      ETC_NETNS    = tostring(h.etc_netns)
      CONTAINER    = h.container
    })
  }
}

module "core" {
  source = "./modules/step"
  script = "${local.scripts}/core.sh"
  env    = local.core_env
}

module "segment" {
  source     = "./modules/step"
  for_each   = var.segments
  depends_on = [module.core]
  script     = "${local.scripts}/segment.sh"
  env        = local.segment_env[each.key]
}

module "host" {
  source     = "./modules/step"
  for_each   = var.hosts
  depends_on = [module.segment]
  script     = "${local.scripts}/host.sh"
  env        = local.host_env[each.key]
  keep       = each.value
}

output "host_env" {
  description = "Each host script's variables: the docker provider wires a restarted container with them again."
  value       = local.host_env
}

output "hosts" {
  description = "What the Ansible inventory is built from."
  value = {
    for name, m in module.host : name => {
      netns    = m.kept.netns
      address  = split("/", m.kept.address)[0]
      role     = m.kept.role
      zone     = m.kept.zone
      region   = m.kept.region
      segment  = m.kept.segment
      host_dir = m.kept.host_dir
    }
  }
}
