"""A trivial Mesa model in Mesa's SolaraViz, one model instance per browser session.

A module-level ``page = SolaraViz(model)`` would hand the same model object to every browser
tab (stepping in one tab moves the others' model too). Building the model inside a
``Page`` component, with ``solara.use_memo``, gives each session (each page load) its own.
"""

import mesa
import solara
from mesa.discrete_space import CellAgent, OrthogonalMooreGrid
from mesa.visualization import SolaraViz, make_plot_component, make_space_component


class Walker(CellAgent):
    def __init__(self, model, cell):
        super().__init__(model)
        self.cell = cell
        self.moves = 0

    def step(self):
        self.cell = self.cell.neighborhood.select_random_cell()
        self.moves += 1


class WalkModel(mesa.Model):
    def __init__(self, n=8, width=10, height=10, seed=42):
        super().__init__(seed=seed)
        self.grid = OrthogonalMooreGrid((width, height), torus=True, random=self.random)
        cells = self.random.choices(list(self.grid.all_cells), k=n)
        Walker.create_agents(self, n, cells)
        self.datacollector = mesa.DataCollector(
            model_reporters={"Moves": lambda m: sum(a.moves for a in m.agents)}
        )
        self.datacollector.collect(self)

    def step(self):
        self.agents.shuffle_do("step")
        self.datacollector.collect(self)


def agent_portrayal(agent):
    return {"color": "tab:blue", "size": 40}


model_params = {
    "n": {"type": "SliderInt", "value": 8, "label": "Walkers", "min": 1, "max": 40, "step": 1},
    "width": 10,
    "height": 10,
    "seed": 42,
}
components = [
    make_space_component(agent_portrayal, backend="matplotlib"),
    make_plot_component("Moves", backend="matplotlib"),
]


@solara.component
def Page():
    # one model per session: use_memo runs once per component instance (page load), and
    # SolaraViz keeps it in its own reactive (its Reset replaces it with a new instance)
    model = solara.use_memo(lambda: WalkModel(), [])
    SolaraViz(model, components=components, model_params=model_params, name="Walk")
