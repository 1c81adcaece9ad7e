"""The code MLflow runs to rebuild a leadscore model ("models from code"), instead of unpickling.

`training.registry` logs this file with each model; loading it names the wrapper, which then
reads the scorer's JSON and booster files in `load_context`.
"""

import mlflow.models

from scoring.pyfunc import LeadScoringModel

mlflow.models.set_model(LeadScoringModel())
