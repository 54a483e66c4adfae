# The hub's state lives in the hub account (profile core-network); the
# platform's state is read from the plat-prod account (profile plat-prod).
# Endpoints come from the environment (the local emulator in the demo).
terraform {
  backend "s3" {
    bucket                  = "core-network-tfstate"
    key                     = "hub/terraform.tfstate"
    region                  = "us-east-1"
    profile                 = "core-network"
    force_path_style        = true # the emulator serves path-style URLs
    skip_region_validation  = true
    skip_metadata_api_check = true
  }
}

data "terraform_remote_state" "platform" {
  backend = "s3"
  config = {
    bucket                  = "plat-prod-tfstate"
    key                     = "platform/terraform.tfstate"
    region                  = "us-east-1"
    profile                 = "plat-prod"
    force_path_style        = true
    skip_region_validation  = true
    skip_metadata_api_check = true
  }
}

resource "terraform_data" "peering" {
  input = {
    hub_account   = "111111111111"
    spoke_account = data.terraform_remote_state.platform.outputs.account
    spoke_vpc     = data.terraform_remote_state.platform.outputs.vpc_id
  }
}

output "spoke_vpc" {
  value = data.terraform_remote_state.platform.outputs.vpc_id
}
