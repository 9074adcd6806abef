# One idempotent step of building the lab: `SCRIPT create` when made, `SCRIPT destroy` when removed,
# both with the same named variables in their environment (a destroy-time provisioner may only read
# `self`, so the script and its environment are kept in the resource's input).

variable "script" {
  type        = string
  description = "Absolute path of the step's script (create|destroy)."
}

variable "env" {
  type        = map(string)
  description = "The script's named variables."
}

variable "keep" {
  type        = any
  default     = {}
  description = "Anything the caller wants back in `output` (a host's attributes for the inventory)."
}

resource "terraform_data" "this" {
  input = { script = var.script, env = var.env, keep = var.keep }

  provisioner "local-exec" {
    command     = "${self.input.script} create"
    environment = self.input.env
  }
  provisioner "local-exec" {
    when        = destroy
    command     = "${self.input.script} destroy"
    environment = self.input.env
  }
}

output "kept" {
  value = terraform_data.this.output.keep
}
