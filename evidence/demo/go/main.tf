terraform {
  required_version = "~> 1.9.0"

  backend "s3" {
    bucket         = "acme-terraform-state"
    key            = "shop/prod.tfstate"
    region         = "eu-west-1"
    encrypt        = true
    dynamodb_table = "acme-terraform-locks"
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

resource "aws_s3_bucket" "exports" {
  bucket = "acme-shop-exports-prod"
  tags = {
    service = "shop"
    env     = "prod"
  }
}

resource "aws_ecs_task_definition" "api" {
  family                = "shop-api"
  container_definitions = jsonencode([{ image = "ghcr.io/acme/shop@${var.image_digest}" }])
}

variable "image_digest" {
  type = string
}
