"""The three file formats: EC-CUBE 4's member CSV, Shopify's customer CSV, our generic CSV.

Each maps its columns onto ``CustomerIn`` (with one address) and ``ConsentEventIn``s. The
mail-magazine flag of EC-CUBE and Shopify's "Accepts Email Marketing" carry no evidence (no
wording shown, no policy version, no time): a "yes" there is never turned into a grant, only
counted (``grants_without_evidence``); a "no" is a withdrawal and is applied. Only the generic
format, with its evidence columns filled in, can record a grant.

Columns a shop system exports that the back office does not keep (EC-CUBE's sex, job, company,
purchase totals, points, shop memo; Shopify's tags, note, totals, SMS flag) are not read: the
import takes only what the product uses (data minimisation).
"""

from __future__ import annotations

from apps.integration.imports.formats.base import ExportFormat
from apps.integration.imports.formats.ecube import EcCubeFormat
from apps.integration.imports.formats.generic import GenericFormat
from apps.integration.imports.formats.shopify import ShopifyFormat

FORMATS: dict[str, type[ExportFormat]] = {
    EcCubeFormat.code: EcCubeFormat,
    ShopifyFormat.code: ShopifyFormat,
    GenericFormat.code: GenericFormat,
}

__all__ = ["FORMATS", "EcCubeFormat", "ExportFormat", "GenericFormat", "ShopifyFormat"]
