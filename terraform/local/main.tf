# Lab hosts as network namespaces. Only terraform_data + local-exec: no provider to download, so
# `terraform init` works offline. Every name carries var.lab; scripts are idempotent, so a create
# over leftovers repairs instead of failing.

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
    netns   = string
    port    = string # veth end inside the router namespace
    segment = string
    address = string # with prefix length
    router  = string # without prefix length
    role    = string
    zone    = string
    region  = string
    host_dir  = string # the host's own directory tree (namespaces share one filesystem)
    etc_netns = bool   # create /etc/netns/NETNS/ (the client's resolv.conf lives there)
  }))
}

locals {
  scripts = "${path.module}/scripts"
}

resource "terraform_data" "core" {
  input = { lab = var.lab, scripts = abspath(local.scripts) }

  provisioner "local-exec" {
    command = "${self.input.scripts}/core.sh create ${self.input.lab}"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "${self.input.scripts}/core.sh destroy ${self.input.lab}"
  }
}

resource "terraform_data" "segment" {
  for_each   = var.segments
  depends_on = [terraform_data.core]
  input      = merge(each.value, { lab = var.lab, scripts = abspath(local.scripts) })

  provisioner "local-exec" {
    command = "${self.input.scripts}/segment.sh create ${self.input.lab} ${self.input.bridge} ${self.input.router}"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "${self.input.scripts}/segment.sh destroy ${self.input.lab} ${self.input.bridge} ${self.input.router}"
  }
}

resource "terraform_data" "host" {
  for_each   = var.hosts
  depends_on = [terraform_data.segment]
  input = merge(each.value, {
    name        = each.key
    lab         = var.lab
    bridge      = var.segments[each.value.segment].bridge
    lab_network = var.lab_network
    scripts     = abspath(local.scripts)
  })

  provisioner "local-exec" {
    command = join(" ", [
      "${self.input.scripts}/host.sh create", self.input.lab, self.input.netns, self.input.port,
      self.input.bridge, self.input.address, self.input.router, self.input.lab_network,
      self.input.host_dir, self.input.etc_netns,
    ])
  }
  provisioner "local-exec" {
    when = destroy
    command = join(" ", [
      "${self.input.scripts}/host.sh destroy", self.input.lab, self.input.netns, self.input.port,
      self.input.bridge, self.input.address, self.input.router, self.input.lab_network,
      self.input.host_dir, self.input.etc_netns,
    ])
  }
}

output "router_netns" {
  value = "${var.lab}-core"
}

output "hosts" {
  description = "What the Ansible inventory is built from."
  value = {
    for name, h in terraform_data.host : name => {
      netns   = h.output.netns
      address = split("/", h.output.address)[0]
      role    = h.output.role
      zone    = h.output.zone
      region  = h.output.region
      segment = h.output.segment
      host_dir = h.output.host_dir
    }
  }
}
