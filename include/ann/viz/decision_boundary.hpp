#pragma once
// The course's part1PlotBoundary: over a grid spanning the data (+-0.1, step 0.01) evaluate a
// 2-input network, fill the regions below / above 0.5 (lightcoral / lightblue at alpha 0.5,
// as contourf(levels=[0, 0.5, 1])), draw the 0.5 contour in black, and scatter the points
// coloured by class with the RdYlBu colormap (class 0 dark red, class 1 dark blue).
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "ann/core/tensor.hpp"
#include "ann/viz/plot.hpp"

namespace ann::viz {

// A scalar field sampled on a regular grid: z[j * nx + i] at (x0 + i*dx, y0 + j*dy).
struct Grid2D {
    double x0 = 0, y0 = 0, dx = 1, dy = 1;
    std::size_t nx = 0, ny = 0;
    std::vector<double> z;
    double at(std::size_t i, std::size_t j) const { return z[j * nx + i]; }
    // Bilinear interpolation, clamped to the grid (which needs at least 2 x 2 points).
    double sample(double x, double y) const {
        if (nx < 2 || ny < 2) fail("Grid2D: ", nx, "x", ny, " points cannot be interpolated (expected at least 2x2)");
        const double fx = std::clamp((x - x0) / dx, 0.0, double(nx - 1)), fy = std::clamp((y - y0) / dy, 0.0, double(ny - 1));
        const std::size_t i = std::min(static_cast<std::size_t>(fx), nx - 2), j = std::min(static_cast<std::size_t>(fy), ny - 2);
        const double u = fx - double(i), v = fy - double(j);
        return (1 - u) * (1 - v) * at(i, j) + u * (1 - v) * at(i + 1, j) + (1 - u) * v * at(i, j + 1) + u * v * at(i + 1, j + 1);
    }
};

// A model as a function: points (N, 2) -> its N outputs (evaluated once over the whole grid).
using Field = std::function<std::vector<double>(const Tensor<double>& points)>;

inline Grid2D sample_field(const Field& f, double xlo, double xhi, double ylo, double yhi, double step) {
    Grid2D g;
    g.x0 = xlo, g.y0 = ylo, g.dx = step, g.dy = step;
    // np.arange(lo, hi, step) has ceil((hi - lo) / step) points
    g.nx = static_cast<std::size_t>(std::max(2.0, std::ceil((xhi - xlo) / step)));
    g.ny = static_cast<std::size_t>(std::max(2.0, std::ceil((yhi - ylo) / step)));
    if (g.nx * g.ny > 50'000'000) fail("decision boundary: grid of ", g.nx, "x", g.ny, " points is too large");
    Tensor<double> pts = Tensor<double>::from_shape({g.nx * g.ny, 2});
    for (std::size_t j = 0; j < g.ny; ++j)
        for (std::size_t i = 0; i < g.nx; ++i) {
            pts(j * g.nx + i, 0) = g.x0 + i * step;
            pts(j * g.nx + i, 1) = g.y0 + j * step;
        }
    g.z = f(pts);
    if (g.z.size() != g.nx * g.ny) fail("decision boundary: the model gave ", g.z.size(), " outputs for ", g.nx * g.ny, " points");
    return g;
}

// Marching squares: the polyline pieces (as segments) where the field crosses `level`.
inline std::vector<std::array<Point, 2>> contour_segments(const Grid2D& g, double level) {
    std::vector<std::array<Point, 2>> segs;
    auto lerp = [&](double xa, double ya, double za, double xb, double yb, double zb) {
        const double t = (level - za) / (zb - za);
        return Point{xa + t * (xb - xa), ya + t * (yb - ya)};
    };
    for (std::size_t j = 0; j + 1 < g.ny; ++j)
        for (std::size_t i = 0; i + 1 < g.nx; ++i) {
            const double x0 = g.x0 + i * g.dx, x1 = x0 + g.dx, y0 = g.y0 + j * g.dy, y1 = y0 + g.dy;
            const double z00 = g.at(i, j), z10 = g.at(i + 1, j), z11 = g.at(i + 1, j + 1), z01 = g.at(i, j + 1);
            // crossing points on the four edges, in order bottom, right, top, left
            std::vector<Point> c;
            if ((z00 >= level) != (z10 >= level)) c.push_back(lerp(x0, y0, z00, x1, y0, z10));
            if ((z10 >= level) != (z11 >= level)) c.push_back(lerp(x1, y0, z10, x1, y1, z11));
            if ((z11 >= level) != (z01 >= level)) c.push_back(lerp(x1, y1, z11, x0, y1, z01));
            if ((z01 >= level) != (z00 >= level)) c.push_back(lerp(x0, y1, z01, x0, y0, z00));
            if (c.size() == 2) segs.push_back({c[0], c[1]});
            if (c.size() == 4) {  // saddle: decide by the centre value
                const bool centre = (z00 + z10 + z11 + z01) / 4 >= level;
                if (centre == (z00 >= level))
                    segs.push_back({c[0], c[1]}), segs.push_back({c[2], c[3]});
                else
                    segs.push_back({c[0], c[3]}), segs.push_back({c[1], c[2]});
            }
        }
    return segs;
}

// matplotlib's RdYlBu at 0 and 1, and the contourf colours of the course's helper.
inline Color rdylbu(double t) { return t < 0.5 ? Color::hex("#a50026") : Color::hex("#313695"); }
inline Color boundary_below() { return Color::hex("#f08080"); }  // lightcoral
inline Color boundary_above() { return Color::hex("#add8e6"); }  // lightblue

// Draws the decision-boundary picture of `f` for points x (N, 2) with labels y (N,) into `ax`.
inline void decision_boundary(Axes& ax, const Field& f, const Tensor<double>& x, const std::vector<int>& y,
                              double step = 0.01, double margin = 0.1) {
    if (x.dimension() != 2 || x.shape()[1] != 2 || x.shape()[0] != y.size() || y.empty())
        fail("decision_boundary: expected points (N, 2) and N labels, got ", shape_str(x.shape()), " and ", y.size(), " labels");
    double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
    for (std::size_t n = 0; n < y.size(); ++n) {
        xlo = std::min(xlo, x(n, 0)), xhi = std::max(xhi, x(n, 0));
        ylo = std::min(ylo, x(n, 1)), yhi = std::max(yhi, x(n, 1));
    }
    xlo -= margin, xhi += margin, ylo -= margin, yhi += margin;
    auto g = std::make_shared<Grid2D>(sample_field(f, xlo, xhi, ylo, yhi, step));
    // contourf leaves the area outside its grid blank, and the grid ends one step short of hi
    const double gx1 = g->x0 + (g->nx - 1) * g->dx, gy1 = g->y0 + (g->ny - 1) * g->dy;
    ax.fill_function([g, gx1, gy1](double px, double py) {
        if (px < g->x0 || px > gx1 || py < g->y0 || py > gy1) return colors::white().with_alpha(0);
        const double z = g->sample(px, py);
        return (z < 0.5 ? boundary_below() : boundary_above()).with_alpha(0.5f);
    });
    Style line;
    line.color = colors::black();
    line.linewidth = 1.5;
    for (const auto& s : contour_segments(*g, 0.5)) ax.plot({s[0].x, s[1].x}, {s[0].y, s[1].y}, line);
    std::vector<double> px, py;
    std::vector<Color> pc;
    for (std::size_t n = 0; n < y.size(); ++n) px.push_back(x(n, 0)), py.push_back(x(n, 1)), pc.push_back(rdylbu(y[n]));
    ax.scatter(px, py, pc, std::sqrt(36.0));  // scatter's default s = 36 pt^2
    // contourf sets tight limits on its grid (no margins)
    ax.set_xlim(g->x0, gx1);
    ax.set_ylim(g->y0, gy1);
}

}  // namespace ann::viz
