"""The synthetic customer world: personas, a buy-till-you-die core with service experiences, campaign and dirt.

``generate_world(WorldParams(...))`` returns the four contract tables, the truth (persona, latent parameters,
dropout times, duplicates, oracle probabilities) and a manifest; ``write_world`` writes them as parquet/JSON.
``world_preset("retail")`` (or ``WorldParams.preset("retail")``) is a world that moves like a real shop.
"""

from custml.synth.oracle import (
    oracle_at_cutoffs,
    oracle_at_test_cutoffs,
    oracle_campaign_uplift,
    oracle_probabilities,
)
from custml.synth.params import (
    AcquisitionWave,
    CampaignParams,
    DirtParams,
    PersonaParams,
    ServiceParams,
    ShockParams,
    WorldParams,
    default_personas,
)
from custml.synth.presets import PRESETS, retail_personas, world_preset
from custml.synth.world import (
    GENERATOR_VERSION,
    World,
    generate_world,
    read_truth,
    truth_columns,
    write_world,
)

__all__ = [
    "GENERATOR_VERSION",
    "PRESETS",
    "AcquisitionWave",
    "CampaignParams",
    "DirtParams",
    "PersonaParams",
    "ServiceParams",
    "ShockParams",
    "World",
    "WorldParams",
    "default_personas",
    "generate_world",
    "oracle_campaign_uplift",
    "oracle_at_cutoffs",
    "oracle_at_test_cutoffs",
    "oracle_probabilities",
    "read_truth",
    "retail_personas",
    "truth_columns",
    "world_preset",
    "write_world",
]
